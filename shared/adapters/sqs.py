"""Publish prediction work to SQS, carrying the correlation id as a message attribute, and the trace context
(W3C ``traceparent``) as another when tracing is on."""

from collections.abc import Sequence
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from shared.batches.chunks import Chunk
from shared.kernel import tracing
from shared.kernel.errors import TransientError
from shared.kernel.messages import (
    BATCHES_QUEUE,
    PREDICTIONS_QUEUE,
    WEBHOOKS_QUEUE,
    BatchStep,
    BatchStepKind,
    DeliverWebhook,
    RunBatchChunk,
    RunPrediction,
)
from shared.kernel.observability import CORRELATION_ID_ATTRIBUTE, correlation_id
from shared.kernel.outbox import PlannedDelivery

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import (
        ChangeMessageVisibilityBatchRequestEntryTypeDef,
        MessageAttributeValueTypeDef,
        SendMessageBatchRequestEntryTypeDef,
    )


class SqsPredictionQueue:
    def __init__(self, queue_url: str, client: "SQSClient") -> None:
        self._queue_url = queue_url
        self._client = client

    def enqueue(self, tenant: str, prediction_id: str, correlation_id: str | None) -> None:
        attributes = _trace_attributes()
        if correlation_id:
            attributes[CORRELATION_ID_ATTRIBUTE] = {"DataType": "String", "StringValue": correlation_id}
        try:
            self._client.send_message(
                QueueUrl=self._queue_url,
                MessageBody=PREDICTIONS_QUEUE.write(RunPrediction(tenant=tenant, prediction_id=prediction_id)),
                MessageAttributes=attributes,
            )
        except (ClientError, BotoCoreError) as exc:
            raise TransientError("the predictions queue is unavailable") from exc

    def release(self, receipt_handles: Sequence[str]) -> None:
        """Make received messages visible again now (visibility 0): work a worker had no time to start."""
        for first in range(0, len(receipt_handles), 10):
            entries: list[ChangeMessageVisibilityBatchRequestEntryTypeDef] = [
                {"Id": str(first + offset), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                for offset, handle in enumerate(receipt_handles[first : first + 10])
            ]
            try:
                response = self._client.change_message_visibility_batch(QueueUrl=self._queue_url, Entries=entries)
            except (ClientError, BotoCoreError) as exc:
                raise TransientError("the predictions queue is unavailable") from exc
            if response.get("Failed"):
                raise TransientError(f"{len(response['Failed'])} messages kept their visibility timeout")


class SqsDeliveryQueue:
    """Publishes committed webhook deliveries to the WebhooksQueue."""

    def __init__(self, queue_url: str, client: "SQSClient") -> None:
        self._queue_url = queue_url
        self._client = client

    def publish(self, tenant: str, prediction_id: str, deliveries: tuple[PlannedDelivery, ...]) -> None:
        for delivery in deliveries:
            self.send(DeliverWebhook(tenant=tenant, prediction_id=prediction_id, delivery_id=delivery.id))

    def send(self, message: DeliverWebhook, delay_seconds: int = 0) -> None:
        attributes = _correlation_attributes()
        try:
            self._client.send_message(
                QueueUrl=self._queue_url,
                MessageBody=WEBHOOKS_QUEUE.write(message),
                MessageAttributes=attributes,
                DelaySeconds=delay_seconds,
            )
        except (ClientError, BotoCoreError) as exc:
            raise TransientError("the webhooks queue is unavailable") from exc

    def postpone(self, receipt_handle: str, seconds: float) -> None:
        """Make a received message visible again in ``seconds`` (how delivery retries are scheduled)."""
        try:
            self._client.change_message_visibility(
                QueueUrl=self._queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=max(0, round(seconds))
            )
        except (ClientError, BotoCoreError) as exc:
            raise TransientError("the webhooks queue is unavailable") from exc

    def receive(self, limit: int = 10, wait_seconds: int = 1) -> list[tuple[DeliverWebhook, str]]:
        """Up to ``limit`` messages with their receipt handles (for draining the dead-letter queue)."""
        try:
            response = self._client.receive_message(
                QueueUrl=self._queue_url, MaxNumberOfMessages=min(limit, 10), WaitTimeSeconds=wait_seconds
            )
        except (ClientError, BotoCoreError) as exc:
            raise TransientError("the webhooks queue is unavailable") from exc
        return [(WEBHOOKS_QUEUE.read(m["Body"]), m["ReceiptHandle"]) for m in response.get("Messages", [])]

    def delete(self, receipt_handle: str) -> None:
        try:
            self._client.delete_message(QueueUrl=self._queue_url, ReceiptHandle=receipt_handle)
        except (ClientError, BotoCoreError) as exc:
            raise TransientError("the webhooks queue is unavailable") from exc


class SqsChunkQueue:
    """Sends a batch's chunks to the predictions queue, ten messages per request."""

    def __init__(self, queue_url: str, client: "SQSClient") -> None:
        self._queue_url = queue_url
        self._client = client

    def send_chunks(self, tenant: str, batch_id: str, chunks: Sequence[Chunk]) -> None:
        for first in range(0, len(chunks), 10):
            entries: list[SendMessageBatchRequestEntryTypeDef] = [
                {
                    "Id": str(chunk.index),
                    "MessageBody": PREDICTIONS_QUEUE.write(
                        RunBatchChunk(
                            tenant=tenant,
                            batch_id=batch_id,
                            chunk=chunk.index,
                            first_line=chunk.first_line,
                            start=chunk.start,
                            end=chunk.end,
                        )
                    ),
                    "MessageAttributes": _correlation_attributes(),
                }
                for chunk in chunks[first : first + 10]
            ]
            try:
                response = self._client.send_message_batch(QueueUrl=self._queue_url, Entries=entries)
            except (ClientError, BotoCoreError) as exc:
                raise TransientError("the predictions queue is unavailable") from exc
            if response.get("Failed"):  # sent again with the step's redelivery; counted once anyway
                raise TransientError(f"{len(response['Failed'])} chunk messages were not queued")


class SqsBatchSteps:
    """The batches queue: validation steps, finalization, and the sweeper's resume and expire steps."""

    def __init__(self, queue_url: str, client: "SQSClient") -> None:
        self._queue_url = queue_url
        self._client = client

    def validate(self, tenant: str, batch_id: str, offset: int, line: int) -> None:
        self._send(BatchStep(kind=BatchStepKind.VALIDATE, tenant=tenant, batch_id=batch_id, offset=offset, line=line))

    def finalize(self, tenant: str, batch_id: str) -> None:
        self._send(BatchStep(kind=BatchStepKind.FINALIZE, tenant=tenant, batch_id=batch_id))

    def resume(self, tenant: str, batch_id: str) -> None:
        self._send(BatchStep(kind=BatchStepKind.RESUME, tenant=tenant, batch_id=batch_id))

    def expire(self, tenant: str, batch_id: str) -> None:
        self._send(BatchStep(kind=BatchStepKind.EXPIRE, tenant=tenant, batch_id=batch_id))

    def _send(self, step: BatchStep) -> None:
        try:
            self._client.send_message(
                QueueUrl=self._queue_url,
                MessageBody=BATCHES_QUEUE.write(step),
                MessageAttributes=_correlation_attributes(),
            )
        except (ClientError, BotoCoreError) as exc:
            raise TransientError("the batches queue is unavailable") from exc


def _correlation_attributes() -> "dict[str, MessageAttributeValueTypeDef]":
    attributes = _trace_attributes()
    current = correlation_id()
    if current:
        attributes[CORRELATION_ID_ATTRIBUTE] = {"DataType": "String", "StringValue": current}
    return attributes


def _trace_attributes() -> "dict[str, MessageAttributeValueTypeDef]":
    """The current span's ``traceparent`` (tracing on), for the consumer to continue the trace."""
    return {name: {"DataType": "String", "StringValue": value} for name, value in tracing.carrier().items()}
