"""GET /v1/health (open): liveness and the deployed package version."""

from fastapi import APIRouter

from shared import __version__
from shared.api.app import lambda_handler
from shared.api.jsonbody import StrictJsonRoute
from shared.api.openapi import Tag
from shared.api.schemas import HealthOut

router = APIRouter(tags=[Tag.HEALTH], route_class=StrictJsonRoute)


@router.get("/v1/health", response_model=HealthOut, summary="Health")
async def get_health() -> HealthOut:
    """Liveness of the API and the version of the deployed package. Needs no key and is not rate limited."""
    return HealthOut(status="ok", version=__version__)


handler = lambda_handler(router)
