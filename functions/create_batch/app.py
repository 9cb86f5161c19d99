"""POST /v1/batches: check the model and the uploaded JSONL file, store the batch, queue its validation."""

from fastapi import APIRouter, Response, status

from shared.api.app import lambda_handler
from shared.api.auth import PredictCaller
from shared.api.jsonbody import StrictJsonRoute
from shared.api.params import IdempotencyKeyHeader
from shared.api.problems import responses
from shared.api.schemas import CreateBatchRequest
from shared.representations import BatchOut
from shared.wiring import batch_service, download_url

router = APIRouter(route_class=StrictJsonRoute)


@router.post(
    "/v1/batches",
    status_code=status.HTTP_201_CREATED,
    response_model=BatchOut,
    responses=responses(400, 401, 403, 409, 413, 415, 422, 503),
    summary="Create a batch",
)
async def create_batch(
    body: CreateBatchRequest, caller: PredictCaller, response: Response, idempotency_key: IdempotencyKeyHeader = None
) -> BatchOut:
    batch = batch_service().create(caller.tenant, body.to_domain(), idempotency_key)
    response.headers["Location"] = f"/v1/batches/{batch.id}"
    return BatchOut.of(batch, download_url)


handler = lambda_handler(router)
