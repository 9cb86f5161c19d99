"""The one way a queue function is built: correlation id per record, partial batch responses, Powertools.

An all-failed batch is reported item by item too (same redelivery, no invocation error). With tracing on,
each record has a consumer span continuing the trace of the request that sent it (its ``traceparent``
attribute), and the invocation's spans are exported before the handler returns.
"""

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse, PartialItemFailures
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSEvent, SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared import wiring
from shared.kernel import tracing
from shared.kernel.errors import ExpectedRetryError, TransientError
from shared.kernel.observability import (
    CORRELATION_ID_ATTRIBUTE,
    logged_invocation,
    logger,
    metrics,
    set_correlation_id,
)

SqsHandler = Callable[[dict[str, Any], LambdaContext], PartialItemFailureResponse]


class ReturnedError(ExpectedRetryError):
    """Work handed back untouched, to be visible again at once rather than after the visibility timeout
    (``sqs_batch_handler``'s ``release``)."""


def sqs_handler(handle_record: Callable[[SQSRecord], None]) -> SqsHandler:
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    wiring.start_tracing()

    def record_handler(record: SQSRecord) -> None:
        origin = correlation_of(record)
        set_correlation_id(origin)
        try:
            with tracing.opened(*_record_spans([record])), tracing.resumed(origin):
                handle_record(record)
        except ExpectedRetryError as retry:
            logger.info(
                "record scheduled for a later attempt", extra={"message_id": record.message_id, "why": str(retry)}
            )
            raise
        except Exception:
            logger.exception("record left for redelivery", extra={"message_id": record.message_id})
            raise

    @metrics.log_metrics
    @logged_invocation
    @tracing.flushed
    def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )

    return handler


BatchHandler = Callable[[list[SQSRecord], LambdaContext], list[Exception | None]]


def sqs_batch_handler(handle_batch: BatchHandler, release: Callable[[list[str]], None] | None = None) -> SqsHandler:
    """Like ``sqs_handler``, for consumers that work on the whole batch at once (micro-batching).

    ``handle_batch`` gets the records and the invocation's context (its remaining time) and returns one
    entry per record: None when done, or the exception that leaves the record for redelivery; the
    function reports those records in ``batchItemFailures``. The receipt handles of records returned
    with ``ReturnedError`` go to ``release`` (visibility 0); if that fails, they come back after their
    visibility timeout as any other failure does. With tracing on, each record's span is open while the batch
    runs, and the work done for one record continues it (``shared.kernel.tracing.resumed``, by correlation id).
    """
    wiring.start_tracing()

    @metrics.log_metrics
    @logged_invocation
    @tracing.flushed
    def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
        records = list(SQSEvent(event).records)
        failures: list[PartialItemFailures] = []
        try:
            with tracing.opened(*_record_spans(records)):
                outcomes = handle_batch(records, context)
        except Exception:  # noqa: BLE001 - every record is redelivered; nothing is lost
            logger.exception("batch left for redelivery", extra={"records": len(records)})
            outcomes = [RuntimeError("batch failed")] * len(records)
        for record, outcome in zip(records, outcomes, strict=True):
            if outcome is None:
                continue
            set_correlation_id(correlation_of(record))
            if isinstance(outcome, ExpectedRetryError):
                logger.info("record scheduled for a later attempt", extra={"message_id": record.message_id})
            else:
                logger.error(
                    "record left for redelivery",
                    extra={"message_id": record.message_id, "error": type(outcome).__name__},
                    exc_info=outcome,
                )
            failures.append({"itemIdentifier": record.message_id})
        returned = [r.receipt_handle for r, o in zip(records, outcomes, strict=True) if isinstance(o, ReturnedError)]
        if release is not None and returned:
            try:
                release(returned)
            except TransientError:
                logger.warning("returned messages keep their visibility timeout", extra={"records": len(returned)})
        return {"batchItemFailures": failures}

    return handler


def correlation_of(record: SQSRecord) -> str:
    """The request id that queued the record, or the message id when it carries none."""
    attribute = record.message_attributes[CORRELATION_ID_ATTRIBUTE]
    return attribute.string_value if attribute and attribute.string_value else record.message_id


def trace_carrier(record: SQSRecord) -> dict[str, str]:
    """The trace context the sender put on the record (its ``traceparent`` attribute), or none."""
    attribute = record.message_attributes[tracing.TRACEPARENT]
    return {tracing.TRACEPARENT: attribute.string_value} if attribute and attribute.string_value else {}


def _record_spans(
    records: list[SQSRecord],
) -> tuple[str, list[tuple[str, dict[str, str]]], dict[str, str | int]]:
    """``tracing.opened``'s arguments for ``records`` (of one queue): span name, each record's correlation
    id and carrier, and the queue's attributes (its name, from the source ARN, not from the message)."""
    queue = records[0].event_source_arn.rpartition(":")[2] if records else ""
    messages = [(correlation_of(record), trace_carrier(record)) for record in records]
    attributes: dict[str, str | int] = {
        "messaging.system": "aws_sqs",
        "messaging.operation.type": "process",
        "messaging.destination.name": queue,
        "messaging.batch.message_count": len(records),
    }
    return f"process {queue}", messages, attributes
