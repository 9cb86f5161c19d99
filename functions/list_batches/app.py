"""GET /v1/batches: the caller's tenant's batches, newest first, as OpenAI's list object."""

from fastapi import APIRouter

from shared.api.app import lambda_handler
from shared.api.auth import PredictCaller
from shared.api.jsonbody import StrictJsonRoute
from shared.api.openapi import Tag
from shared.api.params import DEFAULT_LIMIT, AfterBatchQuery, Cursor, Limit
from shared.api.problems import responses
from shared.api.schemas import BatchList
from shared.wiring import batch_service, download_url

router = APIRouter(tags=[Tag.BATCHES], route_class=StrictJsonRoute)


@router.get("/v1/batches", response_model=BatchList, responses=responses(400, 401, 403), summary="List batches")
async def list_batches(
    caller: PredictCaller, limit: Limit = DEFAULT_LIMIT, after: AfterBatchQuery = None, cursor: Cursor = None
) -> BatchList:
    """The tenant's batches, newest first, as OpenAI's list object. Page with `after` (the last id
    seen, as OpenAI's SDK does) or the opaque `cursor`, not both. A malformed parameter is a 400."""
    return BatchList.of(batch_service().list(caller.tenant, limit, cursor, after), download_url)


handler = lambda_handler(router)
