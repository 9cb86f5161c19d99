"""POST /v1/predictions/{prediction_id}/cancel: a finished prediction is returned unchanged."""

from fastapi import APIRouter, Request

from shared.api.app import lambda_handler
from shared.api.auth import PredictCaller
from shared.api.jsonbody import StrictJsonRoute
from shared.api.openapi import Tag
from shared.api.params import PredictionIdPath
from shared.api.problems import responses
from shared.representations import PredictionOut
from shared.wiring import prediction_service

router = APIRouter(tags=[Tag.PREDICTIONS], route_class=StrictJsonRoute)


@router.post(
    "/v1/predictions/{prediction_id}/cancel",
    response_model=PredictionOut,
    responses=responses(400, 401, 403, 404, 415, 503),
    summary="Cancel a prediction",
)
async def cancel_prediction(prediction_id: PredictionIdPath, caller: PredictCaller, request: Request) -> PredictionOut:
    """Cancels a prediction that has not ended (`canceled`); one that ended is answered as it is
    (no error), and a worker that already runs it drops its result. 404 for an unknown id or another
    tenant's."""
    return PredictionOut.of(prediction_service().cancel(caller.tenant, prediction_id), str(request.base_url))


handler = lambda_handler(router)
