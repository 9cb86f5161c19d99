"""What the webhook services need from storage and the network."""

from collections.abc import Mapping
from typing import Protocol

from shared.kernel.messages import DeliverWebhook
from shared.webhooks.models import AttemptOutcome, Delivery, WebhookSecrets


class DeliveryStore(Protocol):
    def get(self, tenant: str, prediction_id: str, delivery_id: str) -> Delivery: ...

    def list_for_prediction(self, tenant: str, prediction_id: str) -> list[Delivery]: ...

    def record_attempt(self, delivery: Delivery, outcome: AttemptOutcome) -> Delivery:
        """Raise ``AttemptConflictError`` when another attempt was recorded since ``delivery`` was read."""
        ...

    def reopen(self, delivery: Delivery) -> Delivery: ...

    def outbox_due(self, created_before: str, limit: int = 100) -> list[tuple[str, str, str]]: ...

    def postpone_outbox(self, tenant: str, prediction_id: str, delivery_id: str, at: str) -> bool: ...

    def secrets(self, tenant: str) -> WebhookSecrets | None: ...

    def save_secrets(self, tenant: str, secrets: WebhookSecrets, replacing: WebhookSecrets | None) -> bool: ...


class Response(Protocol):
    @property
    def status(self) -> int: ...

    @property
    def retry_after_seconds(self) -> float | None: ...


class Sender(Protocol):
    def __call__(self, url: str, body: bytes, headers: Mapping[str, str]) -> Response:
        """POST once, no redirects; raise ``DeliveryError`` when no HTTP answer came back."""
        ...


class DeliveryQueue(Protocol):
    """The webhooks queue or its dead-letter queue, as the delivery worker, the relay and redrive use them."""

    def send(self, message: DeliverWebhook) -> None: ...

    def postpone(self, receipt_handle: str, seconds: float) -> None:
        """Make a received message visible again in ``seconds``."""
        ...

    def receive(self, limit: int = 10, wait_seconds: int = 1) -> list[tuple[DeliverWebhook, str]]:
        """Up to ``limit`` messages with their receipt handles."""
        ...

    def delete(self, receipt_handle: str) -> None: ...
