"""The public JSON of a prediction and of a batch: what the API returns and what webhook events carry.

One rendering for both, so a ``prediction.completed`` event's ``data`` is exactly what ``GET`` returns.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, overload

from pydantic import BaseModel, Field

from shared.batches.models import Batch, BatchDialect, BatchNotFoundError, BatchStatus, LineProblem
from shared.batches.ports import BatchStore
from shared.kernel.clock import from_rfc3339
from shared.kernel.outbox import EventType
from shared.predictions.events import as_of_event
from shared.predictions.models import Prediction, PredictionNotFoundError, PredictionStatus, WebhookEvent
from shared.predictions.ports import PredictionStore
from shared.webhooks.models import Delivery


class PredictionErrorOut(BaseModel):
    code: str
    message: str


class PredictionMetricsOut(BaseModel):
    predict_time: float | None = Field(description="Seconds the model ran.")
    total_time: float | None = Field(description="Seconds from creation to completion.")


class PredictionUrlsOut(BaseModel):
    get: str
    cancel: str


class PredictionOut(BaseModel):
    id: str = Field(examples=["pred_01JD5YB4W3ZV0B4S8FZ7Q6N9XK"])
    model: str
    version: int
    status: PredictionStatus
    input: dict[str, Any]
    output: dict[str, Any] | None
    error: PredictionErrorOut | None
    metadata: dict[str, str]
    webhook: str | None
    webhook_events_filter: list[WebhookEvent]
    created_at: str
    started_at: str | None
    completed_at: str | None
    metrics: PredictionMetricsOut
    urls: PredictionUrlsOut

    @classmethod
    def of(cls, prediction: Prediction, base_url: str) -> "PredictionOut":
        link = f"{base_url.rstrip('/')}/v1/predictions/{prediction.id}"
        return cls(
            id=prediction.id,
            model=prediction.model,
            version=prediction.version,
            status=prediction.status,
            input=prediction.input,
            output=prediction.output,
            error=PredictionErrorOut(code=prediction.error.code, message=prediction.error.message)
            if prediction.error
            else None,
            metadata=prediction.metadata,
            webhook=prediction.webhook,
            webhook_events_filter=list(prediction.webhook_events_filter),
            created_at=prediction.created_at,
            started_at=prediction.started_at,
            completed_at=prediction.completed_at,
            metrics=PredictionMetricsOut(predict_time=prediction.predict_time, total_time=prediction.total_time),
            urls=PredictionUrlsOut(get=link, cancel=f"{link}/cancel"),
        )


class RequestCountsOut(BaseModel):
    total: int = Field(description="Lines of the file (known once it is validated).")
    completed: int = Field(description="Lines in the output file.")
    failed: int = Field(
        description="Lines in the error file: model and input errors, and lines that did not run because the "
        "batch was cancelled, its completion window ended, or it did not finish in time (see the line's error "
        "code). Once the batch is final, `completed + failed` is `total`."
    )


class BatchErrorOut(BaseModel):
    code: str
    message: str
    param: str | None = Field(description="The request field at fault, if one is.")
    line: int | None = Field(description="1-based line number; null for the file as a whole.")


class BatchErrorsOut(BaseModel):
    object: Literal["list"] = "list"
    data: list[BatchErrorOut]


class BatchOut(BaseModel):
    """OpenAI's batch object, for batches of both dialects, with Infergate's own fields after it.

    Times are Unix seconds, null until the batch gets there. ``output_file_id``/``error_file_id`` are set
    once the batch is final and that file holds at least one line (an empty file gets no id, as with
    OpenAI); ``output_url``/``errors_url`` are set once the files exist, empty or not.
    """

    id: str = Field(examples=["bat_01JD5YB4W3ZV0B4S8FZ7Q6N9XK"])
    object: Literal["batch"] = "batch"
    endpoint: str | None = Field(description="What every line calls (`/v1/embeddings`); null for a native batch.")
    errors: BatchErrorsOut | None = Field(description="Why the file was refused, when `status` is `failed`.")
    input_file_id: str | None = Field(description="The input file (`file_...`); null for a batch from an upload.")
    completion_window: str | None = Field(
        description="How long the batch may run before it ends `expired` (`24h`); null for a batch created "
        "before batches had one."
    )
    status: BatchStatus
    output_file_id: str | None = Field(description="The output file (`GET /v1/files/{id}/content`).")
    error_file_id: str | None = Field(description="The error file (`GET /v1/files/{id}/content`).")
    created_at: int
    in_progress_at: int | None
    expires_at: int | None = Field(description="When the completion window ends.")
    finalizing_at: int | None
    completed_at: int | None
    failed_at: int | None
    expired_at: int | None
    cancelling_at: int | None
    cancelled_at: int | None
    request_counts: RequestCountsOut
    metadata: dict[str, str]
    model: str
    version: int
    dialect: BatchDialect = Field(description="`openai` (created with `input_file_id`) or `infergate` (`model`).")
    input_upload_id: str | None
    output_url: str | None = Field(description="Presigned GET of the output file (JSONL), short-lived.")
    errors_url: str | None = Field(description="Presigned GET of the error file (JSONL), short-lived.")
    webhook: str | None
    retained_until: int = Field(description="When the batch and its files are deleted (the retention).")

    @classmethod
    def of(cls, batch: Batch, presign: Callable[[str], str]) -> "BatchOut":
        counts = batch.counts

        def ended(status: BatchStatus) -> int | None:
            """The one final time a batch has, under the name of the status it ended in."""
            return _seconds(batch.completed_at) if batch.status is status else None

        return cls(
            id=batch.id,
            endpoint=batch.endpoint,
            errors=BatchErrorsOut(data=[_error(p) for p in batch.errors]) if batch.errors else None,
            input_file_id=batch.input_file_id,
            completion_window=_window(batch),
            status=batch.status,
            output_file_id=batch.output_file,
            error_file_id=batch.error_file,
            created_at=_seconds(batch.created_at),
            in_progress_at=_seconds(batch.in_progress_at),
            expires_at=_seconds(batch.window_ends_at),
            finalizing_at=_seconds(batch.finalizing_at),
            completed_at=ended(BatchStatus.COMPLETED),
            failed_at=ended(BatchStatus.FAILED),
            expired_at=ended(BatchStatus.EXPIRED),
            cancelling_at=_seconds(batch.cancelling_at),
            cancelled_at=ended(BatchStatus.CANCELED),
            request_counts=RequestCountsOut(total=counts.total, completed=counts.completed, failed=counts.failed),
            metadata=batch.metadata,
            model=batch.model,
            version=batch.version,
            dialect=batch.dialect,
            input_upload_id=batch.input_upload_id,
            output_url=presign(batch.output_key) if batch.output_key else None,
            errors_url=presign(batch.errors_key) if batch.errors_key else None,
            webhook=batch.webhook,
            retained_until=batch.expires_at,
        )


def _error(problem: LineProblem) -> BatchErrorOut:
    return BatchErrorOut(code=problem.code, message=problem.message, param=problem.param, line=problem.line or None)


def _window(batch: Batch) -> str | None:
    """The window as OpenAI writes it (``24h``), from the end stored with the batch."""
    if batch.window_ends_at is None:
        return None
    seconds = round((from_rfc3339(batch.window_ends_at) - from_rfc3339(batch.created_at)).total_seconds())
    return f"{seconds // 3600}h" if seconds % 3600 == 0 else f"{seconds}s"


@overload
def _seconds(moment: str) -> int: ...
@overload
def _seconds(moment: str | None) -> int | None: ...
def _seconds(moment: str | None) -> int | None:
    """A stored time (RFC 3339, milliseconds) as OpenAI's Unix seconds."""
    return None if moment is None else int(from_rfc3339(moment).timestamp())


class PredictionEventOut(BaseModel):
    """The body of a ``prediction.started`` or ``prediction.completed`` webhook (``WebhookDeliverer.body``)."""

    type: Literal[EventType.PREDICTION_STARTED, EventType.PREDICTION_COMPLETED]
    timestamp: str = Field(description="When the event happened (RFC 3339).", examples=["2025-01-01T12:00:00.000Z"])
    data: PredictionOut = Field(description="The prediction as `GET` returned it at that event.")


class BatchEventOut(BaseModel):
    """The body of a ``batch.completed`` webhook (``WebhookDeliverer.body``)."""

    type: Literal[EventType.BATCH_COMPLETED]
    timestamp: str = Field(description="When the event happened (RFC 3339).", examples=["2025-01-01T12:00:00.000Z"])
    data: BatchOut = Field(description="The batch as `GET` returned it when it ended.")


@dataclass(frozen=True)
class EventPayloads:
    """A webhook event's ``data``: the prediction or batch as ``GET`` returns it (None once it expired)."""

    predictions: PredictionStore
    batches: BatchStore
    api_base_url: str
    presign: Callable[[str], str]

    def __call__(self, delivery: Delivery) -> dict[str, Any] | None:
        if delivery.event is EventType.BATCH_COMPLETED:
            try:
                batch = self.batches.get(delivery.tenant, delivery.prediction_id)
            except BatchNotFoundError:
                return None
            return BatchOut.of(batch, self.presign).model_dump(mode="json")
        try:
            prediction = self.predictions.get(delivery.tenant, delivery.prediction_id)
        except PredictionNotFoundError:
            return None
        snapshot = as_of_event(prediction, delivery.event)
        return PredictionOut.of(snapshot, self.api_base_url).model_dump(mode="json")
