"""GET /v1/batches: the caller's tenant's batches, newest first."""

from fastapi import APIRouter

from shared.api.app import lambda_handler
from shared.api.auth import PredictCaller
from shared.api.jsonbody import StrictJsonRoute
from shared.api.params import DEFAULT_LIMIT, Cursor, Limit
from shared.api.problems import responses
from shared.api.schemas import BatchList
from shared.representations import BatchOut
from shared.wiring import batch_service, download_url

router = APIRouter(route_class=StrictJsonRoute)


@router.get("/v1/batches", response_model=BatchList, responses=responses(400, 401, 403), summary="List batches")
async def list_batches(caller: PredictCaller, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> BatchList:
    page = batch_service().list(caller.tenant, limit, cursor)
    return BatchList(results=[BatchOut.of(b, download_url) for b in page.items], next=page.next_cursor)


handler = lambda_handler(router)
