"""POST /v1/models/{name}/versions: register an uploaded ONNX file as the model's next version."""

from fastapi import APIRouter, status

from shared.api.app import lambda_handler
from shared.api.auth import AdminCaller
from shared.api.jsonbody import StrictJsonRoute
from shared.api.openapi import Tag
from shared.api.params import ModelNamePath
from shared.api.problems import responses
from shared.api.schemas import CreateModelVersionRequest, ModelVersionOut
from shared.registry.models import ModelRef
from shared.wiring import model_registration

router = APIRouter(tags=[Tag.MODELS], route_class=StrictJsonRoute)


@router.post(
    "/v1/models/{name}/versions",
    status_code=status.HTTP_201_CREATED,
    response_model=ModelVersionOut,
    responses=responses(400, 401, 403, 409, 415, 422, 503),
    summary="Register a model version",
    description="Loads the uploaded file before accepting it; versions are numbered from 1 and never change.",
)
async def create_model_version(
    name: ModelNamePath, body: CreateModelVersionRequest, caller: AdminCaller
) -> ModelVersionOut:
    ref = ModelRef.parse_name(name)
    version = model_registration().register(caller.tenant, ref.name, body.to_domain())
    return ModelVersionOut.of(version)


handler = lambda_handler(router)
