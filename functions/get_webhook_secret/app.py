"""GET /v1/webhooks/secret: the tenant's signing secret (created on first use)."""

from fastapi import APIRouter

from shared.api.app import lambda_handler
from shared.api.auth import PredictCaller
from shared.api.jsonbody import StrictJsonRoute
from shared.api.openapi import Tag
from shared.api.problems import responses
from shared.api.schemas import WebhookSecretOut
from shared.wiring import secret_service

router = APIRouter(tags=[Tag.WEBHOOKS], route_class=StrictJsonRoute)


@router.get(
    "/v1/webhooks/secret",
    response_model=WebhookSecretOut,
    responses=responses(401, 403),
    summary="Get the webhook signing secret",
)
async def get_webhook_secret(caller: PredictCaller) -> WebhookSecretOut:
    """The tenant's Standard Webhooks signing secret (`whsec_...`), created on first use. Verify
    each delivery's `webhook-signature` with it (see `webhooks`)."""
    return WebhookSecretOut(key=secret_service().current(caller.tenant).current)


handler = lambda_handler(router)
