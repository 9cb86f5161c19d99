"""What the sweeper's steps do to a stuck batch, on the batches queue (where its files can be read).

``resume`` sends again what the batch waits for: its next validation step (from the state saved in S3),
or the chunks not yet counted (``done_chunks`` against the chunks validation planned), or its
finalization. A chunk sent again while it still runs is harmless: it writes the same parts and is
counted once. ``expire`` gives up: a file still validating fails as a whole (``timeout``); each chunk not
yet counted is counted as not run, its lines written as errors (``timeout``, or ``canceled`` for a
cancelling batch), and the batch is finished as usual (files, status, ``batch.completed``). A worker that
counts one of those chunks first wins it, and then its own result stands.

The completion window: a batch whose window has ended when either step reads it (the sweeper finds it
then: its index deadline is never later than the window's end) is finished as ``expired``: a file still
validating ends with no files, and each chunk not yet counted is counted as ``expired`` (its lines in the
error file); the lines that ran keep their results. A cancelling batch ends cancelled, as it would have;
one whose chunks are all counted is finalized as it stands (its lines all ran).
"""

from shared.batches.chunks import Chunk
from shared.batches.finalizer import BatchFinalizer, final_status
from shared.batches.models import (
    Batch,
    BatchNotFoundError,
    BatchStatus,
    ChunkOutcome,
    LineProblem,
)
from shared.batches.object_keys import validation_key
from shared.batches.parts import skip_chunk
from shared.batches.ports import BatchFiles, BatchSteps, BatchStore, ChunkQueue
from shared.batches.validation import ValidationState
from shared.kernel.clock import to_rfc3339, utc_now
from shared.kernel.errors import InfergateError
from shared.kernel.observability import logger

VALIDATION_TIMEOUT = LineProblem(0, "timeout", "The file could not be validated in time; create the batch again.")


class ValidationStateMissingError(InfergateError):
    """A running batch without the chunk plan its validation saved: nothing can say which lines are left."""


class BatchRecovery:
    def __init__(
        self,
        store: BatchStore,
        files: BatchFiles,
        steps: BatchSteps,
        chunk_queue: ChunkQueue,
        finalizer: BatchFinalizer,
    ) -> None:
        self._store = store
        self._files = files
        self._steps = steps
        self._chunk_queue = chunk_queue
        self._finalizer = finalizer

    def resume(self, tenant: str, batch_id: str) -> None:
        batch = self._unfinished(tenant, batch_id)
        if batch is None:
            return
        if final_status(batch) is None and _window_ended(batch):
            self._give_up(batch)
            return
        if batch.status is BatchStatus.VALIDATING:
            offset, line = self._next_step(batch)
            logger.info("batch validation resumed", extra={"batch_id": batch_id, "offset": offset})
            self._steps.validate(tenant, batch_id, offset, line)
            return
        if final_status(batch) is not None:  # nothing left to count: its finalize step was lost
            self._finalizer.finish(batch)
            return
        missing = self._missing_chunks(batch)
        logger.info("batch chunks sent again", extra={"batch_id": batch_id, "chunks": len(missing)})
        self._chunk_queue.send_chunks(tenant, batch_id, missing)

    def expire(self, tenant: str, batch_id: str) -> None:
        batch = self._unfinished(tenant, batch_id)
        if batch is not None:
            self._give_up(batch)

    def _give_up(self, batch: Batch) -> None:
        """Finish the batch with what ran: the rest is ``expired`` past its window, else ``timeout``."""
        expired = _window_ended(batch)
        if batch.status is BatchStatus.VALIDATING:
            if expired:
                self._finalizer.expire_unvalidated(batch)
            else:
                self._finalizer.fail(batch, (VALIDATION_TIMEOUT,))
            return
        if batch.chunks_total is not None and final_status(batch) is None:
            outcome = _unrun_outcome(batch, expired)
            missing = self._missing_chunks(batch)
            for chunk in missing:
                result = skip_chunk(self._files, batch, chunk.index, chunk.first_line, chunk.start, chunk.end, outcome)
                self._store.count_chunk(batch.tenant, batch.id, result)  # None: a worker counted it first
            logger.warning(
                "batch chunks given up", extra={"batch_id": batch.id, "chunks": len(missing), "outcome": outcome}
            )
            batch = self._store.get(batch.tenant, batch.id)
        self._finalizer.finish(batch)

    def _unfinished(self, tenant: str, batch_id: str) -> Batch | None:
        try:
            batch = self._store.get(tenant, batch_id)
        except BatchNotFoundError:
            return None
        return None if batch.status.is_final else batch

    def _state(self, batch: Batch) -> ValidationState | None:
        saved = self._files.get(validation_key(batch))
        return ValidationState.from_bytes(saved) if saved is not None else None

    def _next_step(self, batch: Batch) -> tuple[int, int]:
        """The step a validating batch waits for: the one after the last saved, or the last again if it
        finished reading (it then decides the batch's fate without reading the file again)."""
        state = self._state(batch)
        if state is None:
            return 0, 1
        return (state.step_start, state.line) if state.finished else (state.offset, state.line)

    def _missing_chunks(self, batch: Batch) -> list[Chunk]:
        state = self._state(batch)
        if state is None or not state.finished:
            raise ValidationStateMissingError(f"batch {batch.id} has no chunk plan")
        return [chunk for chunk in state.chunks if chunk.index not in batch.done_chunks]


def _window_ended(batch: Batch) -> bool:
    return batch.window_ended(to_rfc3339(utc_now()))


def _unrun_outcome(batch: Batch, expired: bool) -> ChunkOutcome:
    """Why the chunks still uncounted will not run."""
    if batch.status is BatchStatus.CANCELING:
        return ChunkOutcome.CANCELED
    return ChunkOutcome.EXPIRED if expired else ChunkOutcome.TIMED_OUT
