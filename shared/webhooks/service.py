"""Webhook use cases: the tenant's signing secret, one delivery attempt, deliveries of a prediction."""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from shared.kernel import tracing
from shared.kernel.clock import to_rfc3339, utc_now
from shared.kernel.ids import IdKind, is_valid_id
from shared.kernel.observability import logger, metrics
from shared.predictions.models import PredictionNotFoundError
from shared.predictions.ports import PredictionStore
from shared.webhooks.models import (
    AttemptConflictError,
    AttemptOutcome,
    Delivery,
    DeliveryError,
    DeliveryNotFoundError,
    DeliveryStatus,
    WebhookSecrets,
)
from shared.webhooks.ports import DeliveryStore, Sender
from shared.webhooks.schedule import RetrySchedule
from shared.webhooks.signing import generate_secret, signature_header

ROTATION_GRACE = timedelta(hours=24)
WEBHOOK_SPAN = "webhook.deliver"  # one delivery attempt, the POST to the receiver
EventData = Callable[[Delivery], dict[str, Any] | None]  # the event's ``data``; None once its subject expired


class SecretService:
    def __init__(self, store: DeliveryStore, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock

    def current(self, tenant: str) -> WebhookSecrets:
        """The tenant's secrets, created on first use (concurrent first uses agree on one)."""
        existing = self._store.secrets(tenant)
        if existing is not None:
            return existing
        fresh = WebhookSecrets(current=generate_secret())
        if self._store.save_secrets(tenant, fresh, replacing=None):
            return fresh
        stored = self._store.secrets(tenant)
        assert stored is not None
        return stored

    def rotate(self, tenant: str) -> WebhookSecrets:
        """New secret; the old one keeps signing too (a second signature) for the grace period."""
        old = self.current(tenant)
        rotated = WebhookSecrets(
            current=generate_secret(),
            previous=old.current,
            previous_valid_until=int(self._clock() + ROTATION_GRACE.total_seconds()),
        )
        if not self._store.save_secrets(tenant, rotated, replacing=old):
            return self.rotate(tenant)  # rotated concurrently: rotate what is there now
        logger.info("webhook secret rotated", extra={"tenant": tenant})
        return rotated


class AttemptResult(StrEnum):
    DONE = "done"  # delivered, gone, or nothing left to do
    RETRY = "retry"
    PARK = "park"  # attempts used up: to the dead-letter queue


@dataclass(frozen=True)
class Attempt:
    result: AttemptResult
    retry_in_seconds: float | None = None


class WebhookDeliverer:
    def __init__(
        self,
        deliveries: DeliveryStore,
        event_data: EventData,
        secrets: SecretService,
        send: Sender,
        schedule: RetrySchedule,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._deliveries = deliveries
        self._event_data = event_data
        self._secrets = secrets
        self._send = send
        self._schedule = schedule
        self._clock = clock

    def attempt(self, tenant: str, subject_id: str, delivery_id: str) -> Attempt:
        """One attempt of the delivery of an event about ``subject_id`` (a prediction or a batch)."""
        try:
            delivery = self._deliveries.get(tenant, subject_id, delivery_id)
        except DeliveryNotFoundError:
            delivery = None
        data = self._event_data(delivery) if delivery is not None else None
        if delivery is None or data is None:
            logger.warning("webhook delivery expired before it was attempted", extra={"delivery_id": delivery_id})
            return Attempt(AttemptResult.DONE)
        if delivery.status is DeliveryStatus.FAILED:
            return Attempt(AttemptResult.PARK)  # its parking may not have happened: park (again)
        if delivery.status is not DeliveryStatus.PENDING:
            return Attempt(AttemptResult.DONE)  # a duplicate message
        body = self.body(delivery, data)
        now = int(self._clock())
        headers = {
            "content-type": "application/json",
            "user-agent": "Infergate-Webhooks/1",
            "webhook-id": delivery.id,
            "webhook-timestamp": str(now),
            "webhook-signature": signature_header(
                delivery.id, now, body, self._secrets.current(tenant).signing_keys(now)
            ),
        }
        status_code, error, retry_after = None, None, None
        attributes = {
            tracing.TENANT: tenant,
            "infergate.delivery_id": delivery.id,
            "infergate.event": delivery.event.value,
            "infergate.attempt": delivery.round_attempts + 1,
        }  # never the URL: a receiver's URL may hold its own token
        with tracing.span(WEBHOOK_SPAN, attributes, kind="client"):
            headers |= tracing.carrier()  # the receiver may continue the trace
            try:
                response = self._send(delivery.url, body.encode("utf-8"), headers)
                status_code, retry_after = response.status, response.retry_after_seconds
                tracing.annotate({"http.response.status_code": status_code})
            except DeliveryError as failure:
                error = failure.reason
                tracing.annotate({"error.type": type(failure).__name__})
        return self._record(delivery, status_code, error, retry_after)

    @staticmethod
    def body(delivery: Delivery, data: dict[str, Any]) -> str:
        """The envelope: ``data`` is the prediction or batch as GET returned it when the event happened."""
        envelope = {"type": delivery.event.value, "timestamp": delivery.created_at, "data": data}
        return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)

    def _record(
        self, delivery: Delivery, status_code: int | None, error: str | None, retry_after: float | None
    ) -> Attempt:
        at = utc_now()
        if status_code is not None and 200 <= status_code < 300:
            outcome, attempt = DeliveryStatus.DELIVERED, Attempt(AttemptResult.DONE)
        elif status_code == 410:
            outcome, attempt = DeliveryStatus.GONE, Attempt(AttemptResult.DONE)
        else:
            delay = self._schedule.delay_after(delivery.round_attempts + 1, retry_after)
            if delay is None:
                outcome, attempt = DeliveryStatus.FAILED, Attempt(AttemptResult.PARK)
            else:
                outcome, attempt = DeliveryStatus.PENDING, Attempt(AttemptResult.RETRY, delay)
        next_at = to_rfc3339(at + timedelta(seconds=attempt.retry_in_seconds)) if attempt.retry_in_seconds else None
        try:
            self._deliveries.record_attempt(
                delivery, AttemptOutcome(outcome, to_rfc3339(at), status_code, error, next_at)
            )
        except AttemptConflictError:
            return Attempt(AttemptResult.DONE)  # a concurrent duplicate recorded its attempt first
        logger.info(
            "webhook attempt",
            extra={"delivery_id": delivery.id, "outcome": outcome, "status_code": status_code, "error": error},
        )
        metrics.add_metric(name=f"WebhookAttempt{outcome.value.capitalize()}", unit="Count", value=1)
        return attempt


class DeliveryQueries:
    def __init__(self, deliveries: DeliveryStore, predictions: PredictionStore) -> None:
        self._deliveries = deliveries
        self._predictions = predictions

    def for_prediction(self, tenant: str, prediction_id: str) -> list[Delivery]:
        if not is_valid_id(IdKind.PREDICTION, prediction_id):
            raise PredictionNotFoundError(prediction_id)
        prediction = self._predictions.get(tenant, prediction_id)  # 404 for unknown and foreign ids
        return sorted(self._deliveries.list_for_prediction(tenant, prediction.id), key=lambda d: d.created_at)
