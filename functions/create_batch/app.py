"""POST /v1/batches: check the model and the input file, store the batch, queue its validation.

The body is Infergate's (``model`` + an upload or a file) or OpenAI's (``input_file_id``, ``endpoint``,
``completion_window``), told apart by its fields (``shared.api.batch_body``)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from shared.api.app import lambda_handler
from shared.api.auth import PredictCaller
from shared.api.batch_body import CreateBatchBody, create_batch_body, create_batch_body_schema
from shared.api.jsonbody import StrictJsonRoute
from shared.api.openapi import Tag
from shared.api.params import IdempotencyKeyHeader
from shared.api.problems import responses
from shared.representations import BatchOut
from shared.wiring import batch_service, download_url

router = APIRouter(tags=[Tag.BATCHES], route_class=StrictJsonRoute)


@router.post(
    "/v1/batches",
    status_code=status.HTTP_201_CREATED,
    response_model=BatchOut,
    responses={
        201: {
            "headers": {"Location": {"description": "The batch's URL.", "schema": {"type": "string"}, "required": True}}
        },
        **responses(400, 401, 403, 404, 409, 413, 415, 422, 503),
    },
    summary="Create a batch",
    description="Infergate's body (`model` and `input_upload_id` or `input_file_id`) or OpenAI's "
    "(`input_file_id`, `endpoint: /v1/embeddings`, `completion_window: 24h`): an OpenAI batch runs the model "
    "its lines name, and its refusals are 400s (404 `model_not_found` for a model that does not exist).",
    openapi_extra={"requestBody": create_batch_body_schema()},
)  # the caller is authenticated before the body is read: an anonymous bad body is a 401, not a 400
async def create_batch(
    caller: PredictCaller,
    request: Request,
    response: Response,
    body: Annotated[CreateBatchBody, Depends(create_batch_body)],
    idempotency_key: IdempotencyKeyHeader = None,
) -> BatchOut:
    batch = batch_service().create(caller.tenant, body.to_domain(), idempotency_key)
    response.headers["Location"] = f"{str(request.base_url).rstrip('/')}/v1/batches/{batch.id}"
    return BatchOut.of(batch, download_url)


handler = lambda_handler(router)
