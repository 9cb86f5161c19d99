"""POST /v1/predictions: validate, store and queue a prediction; optionally wait for it."""

import re

from fastapi import APIRouter, Request, Response, status

from shared.api.app import lambda_handler
from shared.api.auth import PredictCaller
from shared.api.params import PreferHeader
from shared.api.problems import responses
from shared.api.schemas import CreatePredictionRequest, PredictionOut
from shared.observability import correlation_id
from shared.predictions.service import NewPrediction
from shared.services import prediction_service
from shared.settings import api_settings

router = APIRouter()

_WAIT = re.compile(r"(?:^|[,;\s])wait(?:=(?P<seconds>\d{1,2}))?(?=$|[,;\s])", re.IGNORECASE)


def requested_wait(prefer: str | None, cap: float) -> float | None:
    """Seconds to hold the response for ``Prefer: wait[=N]``; unusable preferences are ignored (RFC 7240)."""
    match = _WAIT.search(prefer or "")
    if match is None:
        return None
    seconds = match.group("seconds")
    if seconds is None:
        return cap
    wanted = int(seconds)
    return min(float(wanted), cap) if 1 <= wanted <= 60 else None


@router.post(
    "/v1/predictions",
    status_code=status.HTTP_201_CREATED,
    response_model=PredictionOut,
    responses=responses(400, 401, 403, 413, 422, 503),
    summary="Create a prediction",
)
def create_prediction(
    body: CreatePredictionRequest,
    caller: PredictCaller,
    request: Request,
    response: Response,
    prefer: PreferHeader = None,
) -> PredictionOut:
    service = prediction_service()
    new = NewPrediction(
        model=body.model,
        input=body.input,
        metadata=body.metadata,
        webhook=str(body.webhook) if body.webhook else None,
        webhook_events_filter=tuple(dict.fromkeys(body.webhook_events_filter)),
    )
    prediction = service.create(caller.tenant, new, correlation_id())
    settings = api_settings()
    wait = requested_wait(prefer, settings.max_wait_seconds)
    if wait is not None:
        prediction = service.wait(prediction, wait, settings.wait_poll_interval_seconds)
        response.headers["Preference-Applied"] = f"wait={int(wait)}"
    out = PredictionOut.of(prediction, str(request.base_url))
    response.headers["Location"] = out.urls.get
    return out


handler = lambda_handler(router)
