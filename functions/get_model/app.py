"""GET /v1/models/{name}."""

from fastapi import APIRouter

from shared.api.app import lambda_handler
from shared.api.auth import PredictCaller
from shared.api.params import ModelNamePath
from shared.api.problems import responses
from shared.api.schemas import ModelOut
from shared.services import model_registry

router = APIRouter()


@router.get(
    "/v1/models/{name}", response_model=ModelOut, responses=responses(400, 401, 403, 404), summary="Get a model"
)
async def get_model(name: ModelNamePath, caller: PredictCaller) -> ModelOut:
    return ModelOut.of(model_registry().get(caller.tenant, name))


handler = lambda_handler(router)
