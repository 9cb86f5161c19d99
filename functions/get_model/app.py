"""GET /v1/models/{name}: a model, or one version of it (``name:version``)."""

from fastapi import APIRouter

from shared.api.app import lambda_handler
from shared.api.auth import PredictCaller
from shared.api.jsonbody import StrictJsonRoute
from shared.api.openapi import Tag
from shared.api.params import ModelRefPath
from shared.api.problems import responses
from shared.api.schemas import ModelOut
from shared.wiring import model_registry

router = APIRouter(tags=[Tag.MODELS], route_class=StrictJsonRoute)


@router.get(
    "/v1/models/{name}",
    response_model=ModelOut,
    responses=responses(401, 403, 404),
    summary="Get a model",
    description="`name`: the model with every version; `name:version` (as predictions take it): the model with "
    "that version only. An unknown or malformed name or version is a 404.",
)
async def get_model(name: ModelRefPath, caller: PredictCaller) -> ModelOut:
    model, pinned = model_registry().lookup(caller.tenant, name)
    return ModelOut.of(model, only=pinned)


handler = lambda_handler(router)
