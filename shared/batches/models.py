"""The Batch and its forward-only state machine.

validating → in_progress → completed; validating → failed (the file is unusable as a whole: nothing
runs); validating | in_progress → canceling → canceled. ``request_counts`` only grow and never pass
``total``; ``total`` is known once validation has read the whole file.
"""

from dataclasses import dataclass, field
from enum import StrEnum

from shared.errors import ConflictError, NotFoundError


class BatchStatus(StrEnum):
    VALIDATING = "validating"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELING = "canceling"
    CANCELED = "canceled"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES


FINAL_STATUSES = frozenset({BatchStatus.COMPLETED, BatchStatus.FAILED, BatchStatus.CANCELED})

ALLOWED_SOURCES: dict[BatchStatus, frozenset[BatchStatus]] = {
    BatchStatus.IN_PROGRESS: frozenset({BatchStatus.VALIDATING}),
    BatchStatus.COMPLETED: frozenset({BatchStatus.IN_PROGRESS}),
    BatchStatus.FAILED: frozenset({BatchStatus.VALIDATING}),
    BatchStatus.CANCELING: frozenset({BatchStatus.VALIDATING, BatchStatus.IN_PROGRESS}),
    BatchStatus.CANCELED: frozenset({BatchStatus.CANCELING}),
}

MAX_LINES = 50_000
MAX_REPORTED_ERRORS = 100  # a failed file lists its first problems, with line numbers


@dataclass(frozen=True)
class RequestCounts:
    total: int = 0
    completed: int = 0
    failed: int = 0


@dataclass(frozen=True)
class LineProblem:
    """Why a line (0: the file as a whole) makes the batch's file unusable."""

    line: int
    code: str
    message: str


@dataclass(frozen=True)
class Batch:
    id: str
    tenant: str
    model: str
    version: int
    status: BatchStatus
    input_upload_id: str
    input_key: str  # the S3 object of the uploaded JSONL file
    created_at: str
    expires_at: int  # epoch seconds: retention
    counts: RequestCounts = RequestCounts()
    errors: tuple[LineProblem, ...] = ()
    metadata: dict[str, str] = field(default_factory=dict)
    webhook: str | None = None
    completed_at: str | None = None
    chunks_total: int | None = None  # known once validated
    chunks_done: int = 0
    ran_chunks: frozenset[int] = frozenset()  # counted chunks whose lines ran (not skipped by a cancel)
    output_key: str | None = None
    errors_key: str | None = None


@dataclass(frozen=True)
class ChunkResult:
    """What running one chunk produced: counted once, however often the chunk is delivered.

    ``ran`` is False for a chunk skipped because the batch was canceling: it has no result parts.
    """

    chunk: int
    completed: int = 0
    failed: int = 0
    ran: bool = True


class BatchNotFoundError(NotFoundError):
    def __init__(self, batch_id: str) -> None:
        super().__init__("There is no such batch.")
        self.batch_id = batch_id


class BatchTransitionRejectedError(ConflictError):
    """The stored status is not a source of the requested one: another writer got there first."""

    def __init__(self, current: Batch) -> None:
        super().__init__(f"The batch is {current.status.value}.")
        self.current = current


def problem_list(problems: list[LineProblem], more: int) -> tuple[LineProblem, ...]:
    """The first problems, and one line saying how many more there were."""
    if more <= 0:
        return tuple(problems)
    return (*problems, LineProblem(0, "more_errors", f"{more} more problems are not listed."))
