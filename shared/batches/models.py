"""The Batch and its forward-only state machine, in OpenAI's statuses.

validating → in_progress → finalizing → completed | expired; validating → failed (the file is unusable as
a whole: nothing runs); validating → expired (its completion window ended first: nothing runs);
validating | in_progress → cancelling → cancelled, or → completed when the cancel came too late to keep
any line from running. ``finalizing``: every chunk is counted and the result files are being assembled.
``request_counts`` only grow and never pass ``total``; ``total`` is known once validation has read the
whole file, and a finished batch's ``completed + failed`` is its ``total``: every line is in the output or
the error file, lines that never ran (cancelled, expired, timed out) in the error file.

Times are RFC 3339 text (milliseconds), as stored; the public object shows them as Unix seconds.
"""

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TypeVar

from shared.kernel.errors import ConflictError, NotFoundError
from shared.kernel.outbox import PlannedDelivery


class BatchStatus(StrEnum):
    """OpenAI's statuses and spellings (``cancelling``, ``cancelled``); the member names are older."""

    VALIDATING = "validating"
    IN_PROGRESS = "in_progress"
    FINALIZING = "finalizing"
    COMPLETED = "completed"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELING = "cancelling"
    CANCELED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES


class BatchDialect(StrEnum):
    """The request format a batch was created in; the engine that runs its lines is the same."""

    INFERGATE = "infergate"  # ``model`` + an upload or file of ``{"custom_id", "input"}`` lines
    OPENAI = "openai"  # OpenAI's Batch API: ``input_file_id`` of ``{"custom_id", "method", "url", "body"}`` lines


FINAL_STATUSES = frozenset({BatchStatus.COMPLETED, BatchStatus.FAILED, BatchStatus.EXPIRED, BatchStatus.CANCELED})

ALLOWED_SOURCES: dict[BatchStatus, frozenset[BatchStatus]] = {
    BatchStatus.IN_PROGRESS: frozenset({BatchStatus.VALIDATING}),
    BatchStatus.FINALIZING: frozenset({BatchStatus.IN_PROGRESS}),
    BatchStatus.COMPLETED: frozenset({BatchStatus.FINALIZING, BatchStatus.CANCELING}),
    BatchStatus.FAILED: frozenset({BatchStatus.VALIDATING}),
    BatchStatus.EXPIRED: frozenset({BatchStatus.VALIDATING, BatchStatus.FINALIZING}),
    BatchStatus.CANCELING: frozenset({BatchStatus.VALIDATING, BatchStatus.IN_PROGRESS}),
    BatchStatus.CANCELED: frozenset({BatchStatus.CANCELING}),
}

V = TypeVar("V")

MAX_LINES = 50_000
MAX_REPORTED_ERRORS = 100  # a failed file lists its first problems, with line numbers


@dataclass(frozen=True)
class RequestCounts:
    total: int = 0
    completed: int = 0
    failed: int = 0


@dataclass(frozen=True)
class LineProblem:
    """Why a line (0: the file as a whole) makes the batch's file unusable; ``param``: the field at fault."""

    line: int
    code: str
    message: str
    param: str | None = None  # the field of the line at fault, where one is (OpenAI's ``errors.data[].param``)


@dataclass(frozen=True)
class Batch:
    id: str
    tenant: str
    model: str
    version: int
    status: BatchStatus
    input_upload_id: str | None  # the upload the input came from (Infergate's presigned flow), if any
    input_key: str  # the S3 object of the uploaded JSONL file
    created_at: str
    expires_at: int  # epoch seconds: retention (the item's TTL; the public object's ``retained_until``)
    counts: RequestCounts = RequestCounts()
    errors: tuple[LineProblem, ...] = ()
    metadata: dict[str, str] = field(default_factory=dict)
    webhook: str | None = None
    completed_at: str | None = None  # when it reached its final status, whichever it is
    in_progress_at: str | None = None
    finalizing_at: str | None = None
    cancelling_at: str | None = None
    window_ends_at: str | None = None  # the end of its completion window (None: created before windows existed)
    chunks_total: int | None = None  # known once validated
    chunks_done: int = 0
    done_chunks: frozenset[int] = frozenset()  # every counted chunk, in exactly one of the three sets below
    ran_chunks: frozenset[int] = frozenset()  # counted chunks whose lines ran
    canceled_chunks: frozenset[int] = frozenset()  # counted without running: the batch was canceling
    timed_out_chunks: frozenset[int] = frozenset()  # counted without running: the sweeper gave up on them
    expired_chunks: frozenset[int] = frozenset()  # counted without running: the completion window ended
    output_key: str | None = None
    errors_key: str | None = None
    dialect: BatchDialect = BatchDialect.INFERGATE
    endpoint: str | None = None  # OpenAI dialect: the endpoint every line calls (``/v1/embeddings``)
    input_file_id: str | None = None  # the file the input came from (``POST /v1/files``, a completed upload)
    output_file_id: str | None = None  # the ids the output and error files get (``shared.files``), chosen at create
    error_file_id: str | None = None

    def window_ended(self, now: str) -> bool:
        """Whether its completion window is over at ``now`` (RFC 3339, as the clock writes it)."""
        return self.window_ends_at is not None and self.window_ends_at <= now

    @property
    def output_file(self) -> str | None:
        """The output file's id, once the batch is final with an output file that holds lines."""
        return self.output_file_id if self._has_files and self.counts.completed else None

    @property
    def error_file(self) -> str | None:
        """The error file's id, once the batch is final with an error file that holds lines."""
        return self.error_file_id if self._has_files and self.counts.failed else None

    @property
    def _has_files(self) -> bool:
        return self.status.is_final and self.output_key is not None


# The time a status was reached, for those that are not final (a final one sets ``completed_at``).
STATUS_TIMES = {
    BatchStatus.IN_PROGRESS: "in_progress_at",
    BatchStatus.FINALIZING: "finalizing_at",
    BatchStatus.CANCELING: "cancelling_at",
}


@dataclass(frozen=True)
class BatchTransition:
    """The fields a status change writes, applied only if the stored status is an allowed source.

    ``expected``: the status the change was computed from, when it is valid only from that one (a
    finalizer's files and counts are those of the batch it read); the source then, else every allowed one.
    A final status sets ``completed_at`` to ``at``, another its own time (``STATUS_TIMES``). Fields left
    None are not written.
    """

    status: BatchStatus
    at: str
    expected: BatchStatus | None = None
    total: int | None = None
    chunks_total: int | None = None
    errors: tuple[LineProblem, ...] | None = None
    output_key: str | None = None
    errors_key: str | None = None
    deliveries: tuple[PlannedDelivery, ...] = ()  # webhook outbox entries written with the change

    def __post_init__(self) -> None:
        if self.expected is not None and self.expected not in ALLOWED_SOURCES.get(self.status, frozenset()):
            raise ValueError(f"a batch never moves from {self.expected.value} to {self.status.value}")

    @property
    def sources(self) -> frozenset[BatchStatus]:
        return ALLOWED_SOURCES[self.status] if self.expected is None else frozenset({self.expected})

    @property
    def completed_at(self) -> str | None:
        return self.at if self.status.is_final else None

    @property
    def reached_at(self) -> dict[str, str]:
        """The time attributes the change writes: ``completed_at`` or the status's own."""
        if self.status.is_final:
            return {"completed_at": self.at}
        name = STATUS_TIMES.get(self.status)
        return {} if name is None else {name: self.at}

    def apply(self, batch: Batch) -> Batch:
        times = self.reached_at
        return replace(
            batch,
            status=self.status,
            counts=batch.counts if self.total is None else replace(batch.counts, total=self.total),
            chunks_total=_unless_none(self.chunks_total, batch.chunks_total),
            errors=_unless_none(self.errors, batch.errors),
            output_key=_unless_none(self.output_key, batch.output_key),
            errors_key=_unless_none(self.errors_key, batch.errors_key),
            completed_at=times.get("completed_at", batch.completed_at),
            in_progress_at=times.get("in_progress_at", batch.in_progress_at),
            finalizing_at=times.get("finalizing_at", batch.finalizing_at),
            cancelling_at=times.get("cancelling_at", batch.cancelling_at),
        )


class ChunkOutcome(StrEnum):
    """How a chunk was counted. A chunk that did not run has each of its lines in the error file, with
    this value as the error code."""

    RAN = "ran"
    CANCELED = "canceled"
    TIMED_OUT = "timeout"  # the sweeper gave up on a chunk that made no progress
    EXPIRED = "expired"  # the batch's completion window ended before the chunk ran


@dataclass(frozen=True)
class ChunkResult:
    """What one chunk produced: counted once, however often the chunk is delivered or skipped."""

    chunk: int
    completed: int = 0
    failed: int = 0
    outcome: ChunkOutcome = ChunkOutcome.RAN


@dataclass(frozen=True)
class OverdueBatch:
    """An unfinished batch that made no progress before its deadline, as the sweeper finds it."""

    tenant: str
    batch_id: str
    deadline: str
    sweeps: int  # how often the sweeper has acted on it since its last progress


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


def _unless_none(new: V | None, old: V) -> V:
    return old if new is None else new


class BatchModelNotFoundError(NotFoundError):
    """The model an OpenAI batch's lines name does not exist (404, OpenAI's ``model_not_found``)."""
