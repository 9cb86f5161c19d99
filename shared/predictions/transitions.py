"""Apply a status change and hand the webhook deliveries it created to the delivery worker."""

from typing import Any

from shared.kernel.clock import to_rfc3339, utc_now
from shared.kernel.observability import logger
from shared.kernel.outbox import DeliveryPublisher
from shared.predictions.events import plan_deliveries
from shared.predictions.models import Prediction, PredictionStatus, Transition
from shared.predictions.ports import PredictionStore


class Transitions:
    def __init__(self, store: PredictionStore, publisher: DeliveryPublisher) -> None:
        self._store = store
        self._publisher = publisher

    def move(self, prediction: Prediction, status: PredictionStatus, **fields: Any) -> Prediction:
        """Conditional write of the new status plus its outbox deliveries, then publish them.

        Raises ``TransitionRejectedError`` when another writer got there first. A publish failure is
        logged, not raised: the delivery is committed and the outbox relay will enqueue it.
        """
        transition = Transition(status, to_rfc3339(utc_now()), deliveries=plan_deliveries(prediction, status), **fields)
        moved = self._store.transition(prediction, transition)
        if transition.deliveries:
            try:
                self._publisher.publish(prediction.tenant, prediction.id, transition.deliveries)
            except Exception:  # noqa: BLE001 - committed in the outbox; the relay retries the hand-off
                logger.exception("webhook hand-off deferred to the relay", extra={"prediction_id": prediction.id})
        return moved
