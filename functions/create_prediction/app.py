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


@router.post(
    "/v1/predictions",
    status_code=status.HTTP_201_CREATED,
    response_model=PredictionOut,
    responses=responses(400, 401, 403, 409, 413, 415, 422, 503),
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
