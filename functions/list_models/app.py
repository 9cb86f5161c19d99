"""GET /v1/models."""

from fastapi import APIRouter

from shared.api.app import lambda_handler
from shared.api.auth import PredictCaller
from shared.api.jsonbody import StrictJsonRoute
from shared.api.openapi import Tag
from shared.api.problems import responses
from shared.api.schemas import ModelList, ModelOut
from shared.wiring import model_registry

router = APIRouter(tags=[Tag.MODELS], route_class=StrictJsonRoute)


@router.get("/v1/models", response_model=ModelList, responses=responses(401, 403), summary="List models")
async def list_models(caller: PredictCaller) -> ModelList:
    """The models the caller can use: the built-in models shared by every tenant, and the tenant's
    own registered models with each version's input and output schema."""
    return ModelList(results=[ModelOut.of(model) for model in model_registry().list(caller.tenant)])


handler = lambda_handler(router)
