"""The batch sweeper: no batch stays unfinished. Runs with the prediction sweeper, every 5 minutes.

A batch is overdue when it made no progress (no status change, no chunk counted) for ``stuck_after``:
a validation step or a chunk message reached its DLQ or was lost, a chunk fails on every attempt, a
finalize step was lost. The sweeper only decides and counts; the work runs on the batches queue
(``BatchRecovery``), where a batch's files are. The first ``max_resumes`` sweeps in a row without
progress ask to resume it (send again what it waits for); the next asks to expire it (fail what is left
with ``timeout`` and finish it). Each sweep moves the deadline first, with a write conditional on the
deadline it read, so two sweepers act once, and a lost message is sent again by the next sweep.

The completion window needs nothing here: a batch's deadline is never later than its window's end (the
store keeps it so), so the sweeper finds it then, and the step that reads it past its window (resume or
expire) ends it ``expired``.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.batches.ports import BatchSteps, OverdueBatches
from shared.kernel.clock import to_rfc3339
from shared.kernel.observability import logger, metrics


@dataclass(frozen=True)
class BatchSweepReport:
    resumed: int = 0
    timed_out: int = 0
    skipped: int = 0


class BatchSweeper:
    def __init__(self, overdue: OverdueBatches, steps: BatchSteps, stuck_after: timedelta, max_resumes: int) -> None:
        self._overdue = overdue
        self._steps = steps
        self._stuck_after = stuck_after
        self._max_resumes = max_resumes

    def sweep(self, now: datetime, limit: int = 100) -> BatchSweepReport:
        resumed = timed_out = skipped = 0
        next_deadline = to_rfc3339(now + self._stuck_after)
        for found in self._overdue.overdue(to_rfc3339(now), limit):
            if not self._overdue.postpone(found, next_deadline):
                skipped += 1  # it finished or progressed, or another sweeper took it
                continue
            if found.sweeps >= self._max_resumes:
                self._steps.expire(found.tenant, found.batch_id)
                logger.warning("batch timed out", extra={"batch_id": found.batch_id, "sweeps": found.sweeps})
                timed_out += 1
            else:
                self._steps.resume(found.tenant, found.batch_id)
                logger.info("batch resumed", extra={"batch_id": found.batch_id, "sweep": found.sweeps + 1})
                resumed += 1
        if resumed or timed_out:
            metrics.add_metric(name="BatchResumed", unit="Count", value=resumed)
            metrics.add_metric(name="BatchTimedOut", unit="Count", value=timed_out)
        logger.info("batch sweep finished", extra={"resumed": resumed, "timed_out": timed_out, "skipped": skipped})
        return BatchSweepReport(resumed, timed_out, skipped)
