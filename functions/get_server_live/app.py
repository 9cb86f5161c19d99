"""GET /v2/health/live (open): Open Inference Protocol liveness."""

from fastapi import APIRouter

from shared.api.app import lambda_handler
from shared.api.jsonbody import StrictJsonRoute
from shared.api.oip_schemas import LiveOut
from shared.api.openapi import Tag

router = APIRouter(tags=[Tag.OPEN_INFERENCE_PROTOCOL], route_class=StrictJsonRoute)


@router.get("/v2/health/live", response_model=LiveOut, summary="OIP: server live")
async def get_server_live() -> LiveOut:
    """Open Inference Protocol server liveness. Needs no key."""
    return LiveOut(live=True)


handler = lambda_handler(router)
