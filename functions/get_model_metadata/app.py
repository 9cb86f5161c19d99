"""GET /v2/models/{model_name}[/versions/{model_version}]: Open Inference Protocol model metadata."""

from fastapi import APIRouter

from shared.api.app import lambda_handler
from shared.api.auth import PredictCaller
from shared.api.jsonbody import StrictJsonRoute
from shared.api.oip_schemas import ModelMetadataOut
from shared.api.openapi import Tag
from shared.api.params import OipModelNamePath, OipModelVersionPath
from shared.api.problems import oip_responses
from shared.registry.models import ModelRef
from shared.wiring import model_registry

router = APIRouter(tags=[Tag.OPEN_INFERENCE_PROTOCOL], route_class=StrictJsonRoute)
_RESPONSES = oip_responses(401, 403, 404)


@router.get(
    "/v2/models/{model_name}", response_model=ModelMetadataOut, responses=_RESPONSES, summary="OIP: model metadata"
)
async def get_model_metadata(model_name: OipModelNamePath, caller: PredictCaller) -> ModelMetadataOut:
    """Open Inference Protocol model metadata of a model's latest version: its versions, platform and
    input and output tensors (name, datatype, shape). 404 `{"error": "..."}` for an unknown model or
    another tenant's."""
    return _metadata(caller.tenant, model_name, None)


@router.get(
    "/v2/models/{model_name}/versions/{model_version}",
    response_model=ModelMetadataOut,
    responses=_RESPONSES,
    summary="OIP: model version metadata",
)
async def get_model_version_metadata(
    model_name: OipModelNamePath, model_version: OipModelVersionPath, caller: PredictCaller
) -> ModelMetadataOut:
    """Open Inference Protocol model metadata of one version. 404 `{"error": "..."}` for an unknown
    model or version (a version that is not a number is an unknown version)."""
    return _metadata(caller.tenant, model_name, model_version)


def _metadata(tenant: str, name: str, version: str | None) -> ModelMetadataOut:
    registry = model_registry()
    resolved = registry.resolve(tenant, ModelRef.of_parts(name, version))
    return ModelMetadataOut.of(registry.get(tenant, resolved.name), resolved)


handler = lambda_handler(router)
