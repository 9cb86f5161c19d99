"""POST /v1/batches/{batch_id}/cancel: unfinished lines are not run; finished ones stay in the output."""

from fastapi import APIRouter

from shared.api.app import lambda_handler
from shared.api.auth import PredictCaller
from shared.api.jsonbody import StrictJsonRoute
from shared.api.openapi import Tag
from shared.api.params import BatchIdPath
from shared.api.problems import responses
from shared.representations import BatchOut
from shared.wiring import batch_service, download_url

router = APIRouter(tags=[Tag.BATCHES], route_class=StrictJsonRoute)


@router.post(
    "/v1/batches/{batch_id}/cancel",
    response_model=BatchOut,
    responses=responses(400, 401, 403, 404, 415, 503),
    summary="Cancel a batch",
)
async def cancel_batch(batch_id: BatchIdPath, caller: PredictCaller) -> BatchOut:
    """Cancels a batch that is validating or in progress: it becomes `cancelling`, lines not yet run
    are skipped, what finished stays in its files, and it ends `cancelled`. A batch that is finalizing or
    has ended is answered as it is. 404 for an unknown id or another tenant's."""
    return BatchOut.of(batch_service().cancel(caller.tenant, batch_id), download_url)


handler = lambda_handler(router)
