"""End a batch once: assemble its result files, then one conditional write of its final status.

Triggered by the chunk that completes the counts, by a cancel, or by a refused file — possibly more than
once. Two finalizers may both assemble the files (the same bytes, from the same parts in chunk order),
but only one wins the status write, and the ``batch.completed`` webhook is written in that same
transaction, so it exists exactly once.
"""

from shared.batches.keys import errors_key, errors_part_key, output_key, output_part_key
from shared.batches.models import Batch, BatchStatus, BatchTransitionRejectedError, LineProblem
from shared.batches.ports import BatchFiles, BatchStore
from shared.clock import to_rfc3339, utc_now
from shared.ids import IdKind, new_id
from shared.observability import logger, metrics
from shared.predictions.models import EventType, PlannedDelivery
from shared.predictions.ports import DeliveryPublisher


class BatchFinalizer:
    def __init__(self, store: BatchStore, files: BatchFiles, publisher: DeliveryPublisher) -> None:
        self._store = store
        self._files = files
        self._publisher = publisher

    def finish(self, batch: Batch) -> Batch | None:
        """The final state, if the batch's work is over (every chunk counted, or canceled); else None."""
        all_counted = batch.chunks_total is not None and batch.chunks_done >= batch.chunks_total
        if batch.status is BatchStatus.IN_PROGRESS and all_counted:
            target = BatchStatus.COMPLETED
        elif batch.status is BatchStatus.CANCELING and (batch.chunks_total is None or all_counted):
            target = BatchStatus.CANCELED
        else:
            return None
        chunks = sorted(batch.ran_chunks)
        fields: dict[str, object] = {}
        if chunks:  # a batch canceled before anything ran has no files
            self._files.concatenate((output_part_key(batch, c) for c in chunks), output_key(batch))
            self._files.concatenate((errors_part_key(batch, c) for c in chunks), errors_key(batch))
            fields = {"output_key": output_key(batch), "errors_key": errors_key(batch)}
        return self._end(batch, target, fields)

    def fail(self, batch: Batch, problems: tuple[LineProblem, ...]) -> Batch | None:
        """The file is unusable as a whole: ``failed`` with its problems, nothing ran."""
        return self._end(batch, BatchStatus.FAILED, {"errors": problems})

    def _end(self, batch: Batch, target: BatchStatus, fields: dict[str, object]) -> Batch | None:
        at = to_rfc3339(utc_now())
        deliveries = _planned(batch)
        try:
            ended = self._store.transition(
                batch, target, frozenset({batch.status}), {**fields, "completed_at": at}, deliveries, at
            )
        except BatchTransitionRejectedError as lost:
            logger.info("batch already finalized", extra={"batch_id": batch.id, "status": lost.current.status})
            return None
        if deliveries:
            try:
                self._publisher.publish(batch.tenant, batch.id, deliveries)
            except Exception:  # noqa: BLE001 - committed in the outbox; the relay retries the hand-off
                logger.exception("webhook hand-off deferred to the relay", extra={"batch_id": batch.id})
        counts = ended.counts
        logger.info(
            "batch finished",
            extra={"batch_id": batch.id, "status": target, "completed": counts.completed, "failed": counts.failed},
        )
        metrics.add_metric(name=f"Batch{target.value.capitalize()}", unit="Count", value=1)
        return ended


def _planned(batch: Batch) -> tuple[PlannedDelivery, ...]:
    if batch.webhook is None:
        return ()
    return (PlannedDelivery(new_id(IdKind.DELIVERY), EventType.BATCH_COMPLETED, batch.webhook, batch.expires_at),)
