"""POST /v1/predictions: validate, store and queue a prediction; optionally wait for it."""

from fastapi import APIRouter, Request, Response, status

from shared.api.app import lambda_handler
from shared.api.auth import PredictCaller
from shared.api.jsonbody import StrictJsonRoute
from shared.api.openapi import Tag
from shared.api.params import IdempotencyKeyHeader, PreferHeader
from shared.api.prefer import requested_wait
from shared.api.problems import responses
from shared.api.schemas import CreatePredictionRequest
from shared.kernel.observability import correlation_id
from shared.representations import PredictionOut
from shared.settings import ApiSettings, settings
from shared.wiring import prediction_service

router = APIRouter(tags=[Tag.PREDICTIONS], route_class=StrictJsonRoute)
CREATED_HEADERS = {
    "Location": {"description": "The prediction's URL (`urls.get`).", "schema": {"type": "string"}, "required": True},
    "Preference-Applied": {
        "description": "`wait=N`: the request's `Prefer: wait` was honoured, waiting at most N seconds (its cap "
        "applied). Absent when no wait was asked for.",
        "schema": {"type": "string", "examples": ["wait=20"]},
    },
}


@router.post(
    "/v1/predictions",
    status_code=status.HTTP_201_CREATED,
    response_model=PredictionOut,
    responses={201: {"headers": CREATED_HEADERS}, **responses(400, 401, 403, 409, 413, 415, 422, 503)},
    summary="Create a prediction",
)
async def create_prediction(
    body: CreatePredictionRequest,
    caller: PredictCaller,
    request: Request,
    response: Response,
    prefer: PreferHeader = None,
    idempotency_key: IdempotencyKeyHeader = None,
) -> PredictionOut:
    """Validates the input against the model's input schema, stores the prediction (`starting`) and
    queues it; a worker runs it. Answers 201 with `Location` (the prediction's URL).

    `Prefer: wait` holds the answer until the prediction ends or the wait passes (at most the
    `MAX_WAIT_SECONDS` setting: 20 s unless configured, never over 25 s, under API Gateway's 30 s):
    `Preference-Applied` then says the wait used, and the status may still be `starting` or `processing`.
    `Idempotency-Key` makes a retry safe: the same key and body within 24 h answer the first prediction
    (201); the same key with another body is a 409. A malformed header is a 400, an input over 256 KiB of
    compact JSON a 413, an unknown model or version or an input its schema refuses a 422 (`errors` point
    at the field), and storage or the queue briefly unavailable a 503 with `Retry-After`."""
    prediction = prediction_service().create(caller.tenant, body.to_domain(), correlation_id(), idempotency_key)
    api = settings(ApiSettings)
    wait = requested_wait(prefer, api.max_wait_seconds)
    if wait is not None:
        prediction = prediction_service().wait(prediction, wait, api.wait_poll_interval_seconds)
        response.headers["Preference-Applied"] = f"wait={int(wait)}"
    out = PredictionOut.of(prediction, str(request.base_url))
    response.headers["Location"] = out.urls.get
    return out


handler = lambda_handler(router)
