"""The public JSON of a prediction and of a batch: what the API returns and what webhook events carry.

One rendering for both, so a ``prediction.completed`` event's ``data`` is exactly what ``GET`` returns.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from shared.batches.models import Batch, BatchNotFoundError, BatchStatus
from shared.batches.ports import BatchStore
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
        "batch was canceled (code `canceled`) or did not finish in time (`timeout`). Once the batch is final, "
        "`completed + failed` is `total`."
    )


class BatchProblemOut(BaseModel):
    line: int = Field(description="1-based line number; 0 for the file as a whole.")
    code: str
    message: str


class BatchOut(BaseModel):
    id: str = Field(examples=["bat_01JD5YB4W3ZV0B4S8FZ7Q6N9XK"])
    model: str
    version: int
    status: BatchStatus
    input_upload_id: str | None
    request_counts: RequestCountsOut
    output_url: str | None = Field(description="Presigned GET of the output file (JSONL), short-lived.")
    errors_url: str | None = Field(description="Presigned GET of the error file (JSONL), short-lived.")
    errors: list[BatchProblemOut] = Field(description="Why the file was refused, when `status` is `failed`.")
    metadata: dict[str, str]
    webhook: str | None
    created_at: str
    completed_at: str | None

    @classmethod
    def of(cls, batch: Batch, presign: Callable[[str], str]) -> "BatchOut":
        counts = batch.counts
        return cls(
            id=batch.id,
            model=batch.model,
            version=batch.version,
            status=batch.status,
            input_upload_id=batch.input_upload_id,
            request_counts=RequestCountsOut(total=counts.total, completed=counts.completed, failed=counts.failed),
            output_url=presign(batch.output_key) if batch.output_key else None,
            errors_url=presign(batch.errors_key) if batch.errors_key else None,
            errors=[BatchProblemOut(line=p.line, code=p.code, message=p.message) for p in batch.errors],
            metadata=batch.metadata,
            webhook=batch.webhook,
            created_at=batch.created_at,
            completed_at=batch.completed_at,
        )


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
