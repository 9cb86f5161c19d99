"""What the batch use cases need from storage and queues (adapters and test fakes implement these)."""

from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol

from shared.batches.chunks import Chunk
from shared.batches.models import Batch, BatchTransition, ChunkResult, OverdueBatch
from shared.kernel.idempotency import IdempotencyClaim
from shared.kernel.transitions import TransitionStore


class BatchStore(TransitionStore[Batch, BatchTransition], Protocol):
    """``transition`` raises ``BatchTransitionRejectedError`` (carrying the current batch) when it loses."""

    def create(self, batch: Batch, claim: IdempotencyClaim | None = None) -> None: ...

    def release(self, batch: Batch, claim: IdempotencyClaim) -> None:
        """Free the claim's key at once, if it still names ``batch`` (it was never queued)."""
        ...

    def get(self, tenant: str, batch_id: str) -> Batch:
        """Raise ``BatchNotFoundError`` when the tenant has no such batch."""
        ...

    def list(self, tenant: str, limit: int, after: str | None) -> tuple[list[Batch], str | None]: ...

    def count_chunk(self, tenant: str, batch_id: str, result: ChunkResult) -> Batch | None:
        """Add a chunk's counts unless it was counted before (then None)."""
        ...


class OverdueBatches(Protocol):
    """The sweeper's view of the store: unfinished batches by deadline."""

    def overdue(self, now: str, limit: int) -> list[OverdueBatch]: ...

    def postpone(self, overdue: OverdueBatch, next_deadline: str) -> bool:
        """Count a sweep and move the deadline; False if it finished, progressed, or another sweeper won."""
        ...


class BatchFiles(Protocol):
    def stream(self, key: str, start: int) -> Iterator[bytes]: ...

    def read_range(self, key: str, start: int, end: int) -> bytes: ...

    def get(self, key: str) -> bytes | None: ...

    def copy(self, source: str, destination: str) -> bool:
        """False when there is no ``source`` (its file was deleted)."""
        ...

    def put(self, key: str, data: bytes, content_type: str = "application/jsonl") -> None: ...

    def concatenate(self, sources: Iterable[str], destination: str, content_type: str = "application/jsonl") -> int: ...

    def presign_get(self, key: str, expires_in: int) -> str: ...


class BatchSteps(Protocol):
    """The batches queue: validation steps that continue themselves, finalization, and the sweeper's
    requests to resume a stuck batch or to finish it, failing what is left as ``timeout``."""

    def validate(self, tenant: str, batch_id: str, offset: int, line: int) -> None: ...

    def finalize(self, tenant: str, batch_id: str) -> None: ...

    def resume(self, tenant: str, batch_id: str) -> None: ...

    def expire(self, tenant: str, batch_id: str) -> None: ...


class ChunkQueue(Protocol):
    """The predictions queue, for chunks of a batch's lines."""

    def send_chunks(self, tenant: str, batch_id: str, chunks: Sequence[Chunk]) -> None: ...
