"""POST /v1/webhooks/secret/rotate (admin): a new secret; the old one also signs for 24 hours."""

from fastapi import APIRouter

from shared.api.app import lambda_handler
from shared.api.auth import AdminCaller
from shared.api.jsonbody import StrictJsonRoute
from shared.api.openapi import Tag
from shared.api.problems import responses
from shared.api.schemas import WebhookSecretOut
from shared.wiring import secret_service

router = APIRouter(tags=[Tag.WEBHOOKS], route_class=StrictJsonRoute)


@router.post(
    "/v1/webhooks/secret/rotate",
    response_model=WebhookSecretOut,
    responses=responses(401, 403, 415),
    summary="Rotate the webhook signing secret",
)
async def rotate_webhook_secret(caller: AdminCaller) -> WebhookSecretOut:
    """Replaces the tenant's signing secret and answers the new one. For 24 h deliveries are signed
    with both, so receivers can switch without losing events. Needs an admin key."""
    return WebhookSecretOut(key=secret_service().rotate(caller.tenant).current)


handler = lambda_handler(router)
