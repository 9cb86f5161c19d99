"""GET /v2/models/{model_name}[/versions/{model_version}]/ready: Open Inference Protocol model readiness.

Every registered version was loaded once before it was accepted, so a version that exists is ready.
"""

from fastapi import APIRouter

from shared.api.app import lambda_handler
from shared.api.auth import PredictCaller
from shared.api.jsonbody import StrictJsonRoute
from shared.api.oip_schemas import ModelReadyOut
from shared.api.openapi import Tag
from shared.api.params import OipModelNamePath, OipModelVersionPath
from shared.api.problems import oip_responses
from shared.registry.models import ModelRef
from shared.wiring import model_registry

router = APIRouter(tags=[Tag.OPEN_INFERENCE_PROTOCOL], route_class=StrictJsonRoute)
_RESPONSES = oip_responses(401, 403, 404)


@router.get(
    "/v2/models/{model_name}/ready", response_model=ModelReadyOut, responses=_RESPONSES, summary="OIP: model ready"
)
async def get_model_ready(model_name: OipModelNamePath, caller: PredictCaller) -> ModelReadyOut:
    """Open Inference Protocol model readiness: `ready: true` for a model the caller can use (models
    load on first use). 404 `{"error": "..."}` for an unknown model or another tenant's."""
    return _ready(caller.tenant, model_name, None)


@router.get(
    "/v2/models/{model_name}/versions/{model_version}/ready",
    response_model=ModelReadyOut,
    responses=_RESPONSES,
    summary="OIP: model version ready",
)
async def get_model_version_ready(
    model_name: OipModelNamePath, model_version: OipModelVersionPath, caller: PredictCaller
) -> ModelReadyOut:
    """Open Inference Protocol readiness of one version of a model. 404 `{"error": "..."}` for an
    unknown model or version."""
    return _ready(caller.tenant, model_name, model_version)


def _ready(tenant: str, name: str, version: str | None) -> ModelReadyOut:
    resolved = model_registry().resolve(tenant, ModelRef.of_parts(name, version))
    return ModelReadyOut(name=resolved.name, ready=True)


handler = lambda_handler(router)
