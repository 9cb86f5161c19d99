"""GET /v2/health/ready (open): Open Inference Protocol readiness."""

from fastapi import APIRouter

from shared.api.app import lambda_handler
from shared.api.jsonbody import StrictJsonRoute
from shared.api.oip_schemas import ReadyOut
from shared.api.openapi import Tag

router = APIRouter(tags=[Tag.OPEN_INFERENCE_PROTOCOL], route_class=StrictJsonRoute)


@router.get("/v2/health/ready", response_model=ReadyOut, summary="OIP: server ready")
async def get_server_ready() -> ReadyOut:
    """Open Inference Protocol server readiness: the API is ready when it answers. Needs no key."""
    return ReadyOut(ready=True, live=True)


handler = lambda_handler(router)
