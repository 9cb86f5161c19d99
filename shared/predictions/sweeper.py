"""The sweeper: unfinished predictions past their deadline are re-queued a bounded number of times,
then failed with ``timeout``. Finished predictions are never touched (every write is conditional).

A prediction is overdue when its status has not changed for ``STUCK_AFTER``: the worker died after
``processing``, its message reached the DLQ, or the enqueue after the create was lost. Re-queuing is
safe because the worker is idempotent (a redelivered ``processing`` prediction is run again and
finished by one conditional write).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from shared.kernel.clock import to_rfc3339
from shared.kernel.observability import logger, metrics
from shared.predictions.models import (
    Overdue,
    PredictionError,
    PredictionNotFoundError,
    PredictionStatus,
    TransitionRejectedError,
)
from shared.predictions.ports import PredictionQueue, PredictionStore
from shared.predictions.transitions import Transitions

TIMEOUT = PredictionError("timeout", "The prediction did not finish in time.")
_UNFINISHED = (PredictionStatus.STARTING, PredictionStatus.PROCESSING)


class OverdueStore(Protocol):
    def overdue(self, now: str, limit: int) -> list[Overdue]: ...

    def postpone(self, overdue: Overdue, next_deadline: str) -> bool:
        """Count a sweep and move the deadline; False if it finished or another sweeper won."""
        ...


@dataclass(frozen=True)
class SweepReport:
    requeued: int = 0
    timed_out: int = 0
    skipped: int = 0


class Sweeper:
    def __init__(
        self,
        store: PredictionStore,
        overdue: OverdueStore,
        transitions: Transitions,
        queue: PredictionQueue,
        stuck_after: timedelta,
        max_requeues: int,
    ) -> None:
        self._store = store
        self._overdue = overdue
        self._transitions = transitions
        self._queue = queue
        self._stuck_after = stuck_after
        self._max_requeues = max_requeues

    def sweep(self, now: datetime, limit: int = 100) -> SweepReport:
        requeued = timed_out = skipped = 0
        for found in self._overdue.overdue(to_rfc3339(now), limit):
            outcome = self._handle(found, now)
            requeued += outcome == "requeued"
            timed_out += outcome == "timed_out"
            skipped += outcome == "skipped"
        report = SweepReport(requeued, timed_out, skipped)
        if requeued or timed_out:
            metrics.add_metric(name="PredictionRequeued", unit="Count", value=requeued)
            metrics.add_metric(name="PredictionTimedOut", unit="Count", value=timed_out)
        logger.info("sweep finished", extra={"requeued": requeued, "timed_out": timed_out, "skipped": skipped})
        return report

    def _handle(self, found: Overdue, now: datetime) -> str:
        try:
            prediction = self._store.get(found.tenant, found.prediction_id)
        except PredictionNotFoundError:
            return "skipped"
        if prediction.status not in _UNFINISHED:
            return "skipped"
        if found.sweeps >= self._max_requeues:
            try:
                self._transitions.move(prediction, PredictionStatus.FAILED, error=TIMEOUT)
            except TransitionRejectedError:
                return "skipped"  # it finished meanwhile
            logger.warning("prediction timed out", extra={"prediction_id": prediction.id, "sweeps": found.sweeps})
            return "timed_out"
        if not self._overdue.postpone(found, to_rfc3339(now + self._stuck_after)):
            return "skipped"
        self._queue.enqueue(found.tenant, found.prediction_id, None)
        logger.info("prediction re-queued", extra={"prediction_id": prediction.id, "sweep": found.sweeps + 1})
        return "requeued"
