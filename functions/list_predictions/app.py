"""GET /v1/predictions: the caller's tenant's predictions, newest first."""

from fastapi import APIRouter, Request

from shared.api.app import lambda_handler
from shared.api.auth import PredictCaller
from shared.api.jsonbody import StrictJsonRoute
from shared.api.openapi import Tag
from shared.api.params import DEFAULT_LIMIT, Cursor, Limit
from shared.api.problems import responses
from shared.api.schemas import PredictionList
from shared.representations import PredictionOut
from shared.wiring import prediction_service

router = APIRouter(tags=[Tag.PREDICTIONS], route_class=StrictJsonRoute)


@router.get(
    "/v1/predictions", response_model=PredictionList, responses=responses(400, 401, 403), summary="List predictions"
)
async def list_predictions(
    caller: PredictCaller, request: Request, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> PredictionList:
    """The tenant's predictions, newest first, paged with `limit` (1-100) and the opaque `cursor`
    of the previous page's `next`. A malformed `limit` or `cursor` is a 400."""
    page = prediction_service().list(caller.tenant, limit, cursor)
    base_url = str(request.base_url)
    return PredictionList(results=[PredictionOut.of(p, base_url) for p in page.items], next=page.next_cursor)


handler = lambda_handler(router)
