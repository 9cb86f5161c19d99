"""Use cases of the prediction API: create, get, list, cancel, wait."""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from shared.kernel import tracing
from shared.kernel.clock import to_rfc3339
from shared.kernel.creation import create_idempotently
from shared.kernel.ids import IdKind, is_valid_id, new_id
from shared.kernel.jsoncodec import encoded_size
from shared.kernel.observability import logger, metrics
from shared.kernel.pagination import CursorCodec, Page
from shared.predictions.models import (
    InputTooLargeError,
    Prediction,
    PredictionError,
    PredictionNotFoundError,
    PredictionStatus,
    TransitionRejectedError,
    WebhookEvent,
)
from shared.predictions.ports import PredictionQueue, PredictionStore
from shared.predictions.transitions import Transitions
from shared.registry.service import ModelRegistry

MAX_INPUT_BYTES = 256 * 1024
LISTING = "predictions"


@dataclass(frozen=True)
class NewPrediction:
    model: str
    input: dict[str, Any]
    metadata: dict[str, str] = field(default_factory=dict)
    webhook: str | None = None
    webhook_events_filter: tuple[WebhookEvent, ...] = (WebhookEvent.COMPLETED,)


class PredictionService:
    def __init__(
        self,
        store: PredictionStore,
        transitions: Transitions,
        queue: PredictionQueue,
        registry: ModelRegistry,
        cursors: CursorCodec,
        retention: timedelta,
        allow_insecure_webhooks: bool = False,
    ) -> None:
        self._allow_insecure_webhooks = allow_insecure_webhooks
        self._store = store
        self._transitions = transitions
        self._queue = queue
        self._registry = registry
        self._cursors = cursors
        self._retention = retention

    def create(
        self, tenant: str, request: NewPrediction, correlation_id: str | None, idempotency_key: str | None = None
    ) -> Prediction:
        """Validate, store and queue. With ``idempotency_key``: the same key and request within 24 hours
        return the first prediction again; the same key with another request is a conflict (409)."""
        version = self._registry.resolve_requested(tenant, request.model)
        tracing.annotate({tracing.TENANT: tenant, tracing.MODEL: version.name, tracing.MODEL_VERSION: version.version})
        if encoded_size(request.input) > MAX_INPUT_BYTES:
            raise InputTooLargeError(MAX_INPUT_BYTES)
        self._registry.validate_input(version, request.input)

        def build(now: datetime) -> Prediction:
            return Prediction(
                id=new_id(IdKind.PREDICTION),
                tenant=tenant,
                model=version.name,
                version=version.version,
                status=PredictionStatus.STARTING,
                input=request.input,
                created_at=to_rfc3339(now),
                expires_at=int((now + self._retention).timestamp()),
                metadata=request.metadata,
                webhook=request.webhook,
                webhook_events_filter=request.webhook_events_filter,
            )

        created = create_idempotently(
            self._store,
            build,
            fingerprint={
                "model": request.model,
                "input": request.input,
                "metadata": request.metadata,
                "webhook": request.webhook,
                "webhook_events_filter": [event.value for event in request.webhook_events_filter],
            },
            idempotency_key=idempotency_key,
            webhook=request.webhook,
            allow_insecure_webhooks=self._allow_insecure_webhooks,
            enqueue=lambda prediction: self._queue.enqueue(tenant, prediction.id, correlation_id),
            fail_unqueued=self._fail_unqueued,
        )
        prediction = created.resource
        if created.replayed:
            logger.info("idempotent replay", extra={"prediction_id": prediction.id})
            return prediction
        logger.info("prediction queued", extra={"prediction_id": prediction.id, "model": prediction.model})
        metrics.add_metric(name="PredictionCreated", unit="Count", value=1)
        return prediction

    def get(self, tenant: str, prediction_id: str) -> Prediction:
        if not is_valid_id(IdKind.PREDICTION, prediction_id):
            raise PredictionNotFoundError(prediction_id)
        return self._store.get(tenant, prediction_id)

    def list(self, tenant: str, limit: int, cursor: str | None) -> Page[Prediction]:
        return self._cursors.page(tenant, LISTING, limit, cursor, self._store.list)

    def cancel(self, tenant: str, prediction_id: str) -> Prediction:
        current = self.get(tenant, prediction_id)
        if current.status.is_terminal:
            return current
        try:
            canceled = self._transitions.move(current, PredictionStatus.CANCELED)
        except TransitionRejectedError as lost:
            return lost.current  # finished meanwhile: returned unchanged
        logger.info("prediction canceled", extra={"prediction_id": prediction_id})
        metrics.add_metric(name="PredictionCanceled", unit="Count", value=1)
        return canceled

    def wait(
        self,
        prediction: Prediction,
        timeout_seconds: float,
        poll_interval_seconds: float,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> Prediction:
        """Poll until the prediction is terminal or the timeout passes; return it in whatever state."""
        deadline = monotonic() + timeout_seconds
        current = prediction
        interval = min(0.05, poll_interval_seconds)
        while not current.status.is_terminal:
            remaining = deadline - monotonic()
            if remaining <= 0:
                break
            sleep(min(interval, remaining))
            interval = min(interval * 2, poll_interval_seconds)
            current = self._store.get(current.tenant, current.id)
        return current

    def _fail_unqueued(self, prediction: Prediction) -> None:
        error = PredictionError("queue_unavailable", "The prediction could not be queued; submit it again.")
        self._transitions.move(prediction, PredictionStatus.FAILED, error=error)
