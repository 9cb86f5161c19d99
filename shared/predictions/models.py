"""The Prediction and its forward-only state machine."""

from dataclasses import dataclass, field, replace
from datetime import timedelta
from enum import StrEnum
from typing import Any

from shared.kernel.clock import from_rfc3339
from shared.kernel.errors import ConflictError, NotFoundError
from shared.kernel.outbox import PlannedDelivery


class PredictionStatus(StrEnum):
    STARTING = "starting"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset({PredictionStatus.SUCCEEDED, PredictionStatus.FAILED, PredictionStatus.CANCELED})

# Status only moves forward. Every write of a new status is conditional on one of these sources.
ALLOWED_SOURCES: dict[PredictionStatus, frozenset[PredictionStatus]] = {
    PredictionStatus.PROCESSING: frozenset({PredictionStatus.STARTING}),
    PredictionStatus.SUCCEEDED: frozenset({PredictionStatus.PROCESSING}),
    PredictionStatus.FAILED: frozenset({PredictionStatus.STARTING, PredictionStatus.PROCESSING}),
    PredictionStatus.CANCELED: frozenset({PredictionStatus.STARTING, PredictionStatus.PROCESSING}),
}


# An unfinished prediction whose status has not changed for this long is re-queued by the sweeper.
STUCK_AFTER = timedelta(minutes=15)


@dataclass(frozen=True)
class Overdue:
    """An unfinished prediction past its deadline, as the sweeper finds it."""

    tenant: str
    prediction_id: str
    deadline: str
    sweeps: int  # how many times the sweeper has re-queued it already


class WebhookEvent(StrEnum):
    START = "start"
    COMPLETED = "completed"


@dataclass(frozen=True)
class PredictionError:
    code: str
    message: str


@dataclass(frozen=True)
class Prediction:
    id: str
    tenant: str
    model: str
    version: int
    status: PredictionStatus
    input: dict[str, Any]
    created_at: str
    expires_at: int
    output: dict[str, Any] | None = None
    error: PredictionError | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    webhook: str | None = None
    webhook_events_filter: tuple[WebhookEvent, ...] = (WebhookEvent.COMPLETED,)
    started_at: str | None = None
    completed_at: str | None = None
    predict_time: float | None = None

    @property
    def total_time(self) -> float | None:
        if self.completed_at is None:
            return None
        return (from_rfc3339(self.completed_at) - from_rfc3339(self.created_at)).total_seconds()


@dataclass(frozen=True)
class Transition:
    """The fields a status change writes, applied only if the stored status is an allowed source."""

    status: PredictionStatus
    at: str
    output: dict[str, Any] | None = None
    error: PredictionError | None = None
    predict_time: float | None = None
    deliveries: tuple[PlannedDelivery, ...] = ()  # webhook outbox entries written with the change

    @property
    def sources(self) -> frozenset[PredictionStatus]:
        return ALLOWED_SOURCES[self.status]

    def apply(self, prediction: Prediction) -> Prediction:
        if self.status is PredictionStatus.PROCESSING:
            return replace(prediction, status=self.status, started_at=self.at)
        return replace(
            prediction,
            status=self.status,
            completed_at=self.at,
            output=self.output,
            error=self.error,
            predict_time=self.predict_time,
        )


class PredictionNotFoundError(NotFoundError):
    def __init__(self, prediction_id: str) -> None:
        super().__init__("There is no such prediction.")  # never echo the caller's id back
        self.prediction_id = prediction_id


class TransitionRejectedError(ConflictError):
    """The conditional write lost: the stored prediction was not in an allowed source status."""

    def __init__(self, current: Prediction) -> None:
        super().__init__(f"Prediction is already {current.status.value}.")
        self.current = current


class InputTooLargeError(Exception):
    """The input exceeds the synchronous size limit (413)."""

    def __init__(self, limit_bytes: int) -> None:
        super().__init__(f"The input is larger than {limit_bytes // 1024} KiB; use a batch upload for bulk data.")
        self.limit_bytes = limit_bytes
