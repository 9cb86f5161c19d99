"""End a batch once: assemble its result files, then one conditional write of its final status.

Triggered by the chunk that completes the counts, by a cancel, by the sweeper, or by a refused file —
possibly more than once. A running batch whose chunks are all counted is first moved to ``finalizing``
(a conditional write; a finalizer that finds it ``finalizing`` already carries on: the files are the same
bytes, from the same parts in chunk order). Then the files are assembled and published as files
(``StoredFile`` items of purpose ``batch_output``, under the ids the batch was created with, written again
harmlessly), and only then is the final status written, once: the ``batch.completed`` webhook is in that
same transaction, so it exists exactly once.

Once the file is validated, every line is in exactly one of the two files: a chunk that ran contributes
its output and error parts, a chunk that did not run its ``canceled``, ``expired`` or ``timeout`` error
lines. A batch with chunks skipped because its completion window ended ends ``expired``. A cancelled
batch none of whose chunks was skipped by the cancel ends ``completed``: the cancel came too late to keep
any line from running. A batch cancelled (or expired) before its file was validated ends so with no files
(no line of it was accepted as a request: ``total`` is 0).
"""

from collections.abc import Iterator
from dataclasses import replace

from shared.batches.models import (
    Batch,
    BatchStatus,
    BatchTransition,
    BatchTransitionRejectedError,
    ChunkOutcome,
    LineProblem,
)
from shared.batches.object_keys import errors_key, errors_part_key, output_key, output_part_key, unrun_part_key
from shared.batches.ports import BatchFiles, BatchStore
from shared.files.models import FilePurpose, StoredFile
from shared.files.ports import FileStore
from shared.kernel.clock import to_rfc3339, utc_now
from shared.kernel.ids import IdKind, new_id
from shared.kernel.observability import logger, metrics
from shared.kernel.outbox import DeliveryPublisher, EventType, PlannedDelivery


class BatchFinalizer:
    def __init__(
        self, store: BatchStore, files: BatchFiles, publisher: DeliveryPublisher, file_store: FileStore
    ) -> None:
        self._store = store
        self._files = files
        self._publisher = publisher
        self._file_store = file_store

    def finish(self, batch: Batch) -> Batch | None:
        """The final state, if the batch's work is over (every chunk counted, or cancelled); else None."""
        target = final_status(batch)
        if target is None:
            return None
        if batch.status is BatchStatus.IN_PROGRESS:
            finalizing = self._finalizing(batch)
            if finalizing is None:
                return None
            return self.finish(finalizing)
        change = _final(batch, target)
        if batch.chunks_total:  # validated: the files hold every line
            chunks = range(batch.chunks_total)
            output_size = self._files.concatenate(
                (output_part_key(batch, c) for c in chunks if c in batch.ran_chunks), output_key(batch)
            )
            errors_size = self._files.concatenate(_error_parts(batch), errors_key(batch))
            change = replace(change, output_key=output_key(batch), errors_key=errors_key(batch))
            self._publish_files(change.apply(batch), output_size, errors_size)
        return self._end(batch, change)

    def fail(self, batch: Batch, problems: tuple[LineProblem, ...]) -> Batch | None:
        """The file is unusable as a whole: ``failed`` with its problems, nothing ran."""
        return self._end(batch, replace(_final(batch, BatchStatus.FAILED), errors=problems))

    def expire_unvalidated(self, batch: Batch) -> Batch | None:
        """The completion window ended before the file was validated: ``expired``, nothing ran, no files."""
        return self._end(batch, _final(batch, BatchStatus.EXPIRED))

    def _finalizing(self, batch: Batch) -> Batch | None:
        """The batch moved to ``finalizing`` (by this finalizer or another); None if it went elsewhere."""
        try:
            return self._store.transition(
                batch, BatchTransition(BatchStatus.FINALIZING, to_rfc3339(utc_now()), expected=batch.status)
            )
        except BatchTransitionRejectedError as lost:
            if lost.current.status is BatchStatus.FINALIZING:
                return lost.current
            logger.info("batch already finalized", extra={"batch_id": batch.id, "status": lost.current.status})
            return None

    def _publish_files(self, ended: Batch, output_size: int, errors_size: int) -> None:
        """The output and error files as files (``GET /v1/files/{id}``), before the status that names them.
        A second finalizer assembled the same bytes: the first one's items stand (their times unchanged)."""
        now = int(utc_now().timestamp())
        published = (
            (ended.output_file, ended.output_key, output_size, "output"),
            (ended.error_file, ended.errors_key, errors_size, "error"),
        )
        for file_id, key, size, kind in published:
            if file_id is None or key is None:
                continue
            self._file_store.create(
                StoredFile(
                    id=file_id,
                    tenant=ended.tenant,
                    purpose=FilePurpose.BATCH_OUTPUT,
                    filename=f"{ended.id}_{kind}.jsonl",
                    size=size,
                    key=key,
                    created_at=now,
                    expires_at=ended.expires_at,
                )
            )

    def _end(self, batch: Batch, change: BatchTransition) -> Batch | None:
        target, deliveries = change.status, change.deliveries
        try:
            ended = self._store.transition(batch, change)
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


def final_status(batch: Batch) -> BatchStatus | None:
    """Where the batch ends now, or None while chunks are still to be counted."""
    all_counted = batch.chunks_total is not None and batch.chunks_done >= batch.chunks_total
    if batch.status in (BatchStatus.IN_PROGRESS, BatchStatus.FINALIZING) and all_counted:
        return BatchStatus.EXPIRED if batch.expired_chunks else BatchStatus.COMPLETED
    if batch.status is BatchStatus.CANCELING:
        if batch.chunks_total is None:
            return BatchStatus.CANCELED
        if all_counted:
            return BatchStatus.CANCELED if batch.canceled_chunks else BatchStatus.COMPLETED
    return None


def _error_parts(batch: Batch) -> Iterator[str]:
    """The error lines of each chunk in order: what it ran into, or why it did not run."""
    for chunk in range(batch.chunks_total or 0):
        if chunk in batch.ran_chunks:
            yield errors_part_key(batch, chunk)
        elif chunk in batch.canceled_chunks:
            yield unrun_part_key(batch, chunk, ChunkOutcome.CANCELED)
        elif chunk in batch.timed_out_chunks:
            yield unrun_part_key(batch, chunk, ChunkOutcome.TIMED_OUT)
        elif chunk in batch.expired_chunks:
            yield unrun_part_key(batch, chunk, ChunkOutcome.EXPIRED)


def _final(batch: Batch, target: BatchStatus) -> BatchTransition:
    """The final change, valid only from the status the batch was read in (its files are that state's)."""
    return BatchTransition(target, to_rfc3339(utc_now()), expected=batch.status, deliveries=_planned(batch))


def _planned(batch: Batch) -> tuple[PlannedDelivery, ...]:
    if batch.webhook is None:
        return ()
    return (PlannedDelivery(new_id(IdKind.DELIVERY), EventType.BATCH_COMPLETED, batch.webhook, batch.expires_at),)
