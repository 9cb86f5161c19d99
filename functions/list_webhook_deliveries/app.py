"""GET /v1/predictions/{prediction_id}/webhook-deliveries: what was sent, how often, with what result."""

from fastapi import APIRouter

from shared.api.app import lambda_handler
from shared.api.auth import PredictCaller
from shared.api.jsonbody import StrictJsonRoute
from shared.api.openapi import Tag
from shared.api.params import PredictionIdPath
from shared.api.problems import responses
from shared.api.schemas import WebhookDeliveryList, WebhookDeliveryOut
from shared.wiring import delivery_queries

router = APIRouter(tags=[Tag.WEBHOOKS], route_class=StrictJsonRoute)


@router.get(
    "/v1/predictions/{prediction_id}/webhook-deliveries",
    response_model=WebhookDeliveryList,
    responses=responses(400, 401, 403, 404),
    summary="List a prediction's webhook deliveries",
)
async def list_webhook_deliveries(prediction_id: PredictionIdPath, caller: PredictCaller) -> WebhookDeliveryList:
    """Each webhook delivery of a prediction, oldest first: its event, status (`pending`,
    `delivered`, `gone`, `failed`), attempts, last status code or error and next attempt time. The
    `id` is the `webhook-id` header receivers see. 404 for an unknown prediction or another tenant's."""
    deliveries = delivery_queries().for_prediction(caller.tenant, prediction_id)  # 404 for unknown ids
    return WebhookDeliveryList(results=[WebhookDeliveryOut.of(d) for d in deliveries])


handler = lambda_handler(router)
