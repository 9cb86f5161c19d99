"""GET /v1/predictions/{prediction_id}."""

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


@router.get(
    "/v1/predictions/{prediction_id}",
    response_model=PredictionOut,
    responses=responses(400, 401, 403, 404),
    summary="Get a prediction",
)
async def get_prediction(prediction_id: PredictionIdPath, caller: PredictCaller, request: Request) -> PredictionOut:
    """One prediction of the caller's tenant: its status, and its output or error once it ended.
    Poll it (or send `Prefer: wait` when creating it, or use a webhook). 404 for an unknown id or
    another tenant's; an id over 64 characters is a 400."""
    return PredictionOut.of(prediction_service().get(caller.tenant, prediction_id), str(request.base_url))


handler = lambda_handler(router)
