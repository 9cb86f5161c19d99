"""The webhook events Infergate sends, as the OpenAPI document's ``webhooks`` (OpenAPI 3.1).

Documentation only: these routes are never served. The bodies are the models the deliveries are
checked against (``shared.representations``), the headers those ``WebhookDeliverer`` signs with.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Header, Response

from shared.api.openapi import Tag, operation_id
from shared.representations import BatchEventOut, PredictionEventOut

webhooks = APIRouter(tags=[Tag.WEBHOOKS], generate_unique_id_function=operation_id)

WebhookId = Annotated[
    str,
    Header(
        alias="webhook-id",
        description="The delivery's id (`dlv_...`), the same on every attempt: deduplicate on it.",
    ),
]
WebhookTimestamp = Annotated[
    str,
    Header(
        alias="webhook-timestamp",
        description="Unix seconds of this attempt; refuse one far from your clock (replays).",
    ),
]
WebhookSignature = Annotated[
    str,
    Header(
        alias="webhook-signature",
        description="Standard Webhooks signatures: space-separated `v1,<base64 HMAC-SHA256>` of "
        "`{webhook-id}.{webhook-timestamp}.{body}` with the tenant's `whsec_` secret (`GET /v1/webhooks/secret`); "
        "two while a rotated secret is in its 24 h grace period. Any standardwebhooks library verifies it.",
    ),
]
RECEIVER_RESPONSES: dict[int | str, dict[str, str]] = {
    200: {"description": "Received (any 2xx will do): the delivery is done."},
    410: {"description": "Gone: the delivery is dropped, never retried."},
    "default": {
        "description": "Anything else, or no answer within 10 s: retried from 5 s up to 10 h apart (plus up to "
        "20 % jitter, honouring a longer `Retry-After`), 11 attempts over at least 24 h, then parked as `failed`."
    },
}
_RECEIVER: dict[str, Any] = {"response_class": Response, "responses": RECEIVER_RESPONSES}
_DELIVERY = (
    "\n\nPOSTed as JSON to the URL given at creation, signed per "
    "[Standard Webhooks](https://www.standardwebhooks.com/). Deliveries are at least once: the same "
    "`webhook-id` may arrive more than once."
)
_PREDICTION_ATTEMPTS = " Every attempt is listed by `GET /v1/predictions/{prediction_id}/webhook-deliveries`."


@webhooks.post(
    "prediction.started", response_class=Response, responses=RECEIVER_RESPONSES, summary="A prediction started"
)
async def prediction_started(
    body: PredictionEventOut, webhook_id: WebhookId, webhook_timestamp: WebhookTimestamp, signature: WebhookSignature
) -> None:
    """A worker took the prediction (status `processing`), sent when its `webhook_events_filter` holds
    `start`. `data` is the prediction as it was then, even when delivered after it ended.
    """


@webhooks.post(
    "prediction.completed", response_class=Response, responses=RECEIVER_RESPONSES, summary="A prediction ended"
)
async def prediction_completed(
    body: PredictionEventOut, webhook_id: WebhookId, webhook_timestamp: WebhookTimestamp, signature: WebhookSignature
) -> None:
    """The prediction reached a terminal status (`succeeded`, `failed` or `canceled`), sent when its
    `webhook_events_filter` holds `completed`. `data` is the prediction with its output or error.
    """


@webhooks.post("batch.completed", summary="A batch ended", **_RECEIVER)
async def batch_completed(
    body: BatchEventOut, webhook_id: WebhookId, webhook_timestamp: WebhookTimestamp, signature: WebhookSignature
) -> None:
    """The batch reached a final status (`completed`, `failed`, `expired` or `cancelled`), sent to the
    batch's `webhook`. `data` is the batch with its output and error files' ids and URLs.
    """


for _route in webhooks.routes:  # the delivery terms, once for the three events
    _route.description += _DELIVERY  # type: ignore[attr-defined]
    if _route.name.startswith("prediction_"):  # type: ignore[attr-defined]  # a batch's attempts are not listed
        _route.description += _PREDICTION_ATTEMPTS  # type: ignore[attr-defined]
