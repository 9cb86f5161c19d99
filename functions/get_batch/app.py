"""GET /v1/batches/{batch_id}: status, counts and (once finished) short-lived URLs of the result files."""

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


@router.get(
    "/v1/batches/{batch_id}", response_model=BatchOut, responses=responses(400, 401, 403, 404), summary="Get a batch"
)
async def get_batch(batch_id: BatchIdPath, caller: PredictCaller) -> BatchOut:
    """One batch of the caller's tenant: its status, `request_counts`, and once it ended its
    `output_file_id`/`error_file_id` with presigned `output_url`/`errors_url`. 404 for an unknown id or
    another tenant's; an id over 64 characters is a 400."""
    return BatchOut.of(batch_service().get(caller.tenant, batch_id), download_url)


handler = lambda_handler(router)
