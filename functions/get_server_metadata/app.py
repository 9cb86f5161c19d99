"""GET /v2: Open Inference Protocol server metadata."""

from fastapi import APIRouter

from shared.api.app import lambda_handler
from shared.api.auth import PredictCaller
from shared.api.jsonbody import StrictJsonRoute
from shared.api.oip_schemas import ServerMetadataOut
from shared.api.openapi import Tag
from shared.api.problems import oip_responses

router = APIRouter(tags=[Tag.OPEN_INFERENCE_PROTOCOL], route_class=StrictJsonRoute)


@router.get(
    "/v2",
    response_model=ServerMetadataOut,
    responses=oip_responses(401, 403),
    summary="OIP: server metadata",
)
async def get_server_metadata(caller: PredictCaller) -> ServerMetadataOut:
    """Open Inference Protocol server metadata: name, version and protocol extensions
    (`binary_tensor_data`). Errors are `{"error": "..."}`."""
    return ServerMetadataOut.current()


handler = lambda_handler(router)
