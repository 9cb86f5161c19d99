"""The one way a queue function is built: correlation id per record, partial batch responses, Powertools.

An all-failed batch is reported item by item too (same redelivery, no invocation error).
"""

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.observability import CORRELATION_ID_ATTRIBUTE, logger, metrics, set_correlation_id

SqsHandler = Callable[[dict[str, Any], LambdaContext], PartialItemFailureResponse]


class ExpectedRetryError(Exception):
    """A record handler asks for a later redelivery on purpose (logged quietly, not as an error)."""


def sqs_handler(handle_record: Callable[[SQSRecord], None]) -> SqsHandler:
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    def record_handler(record: SQSRecord) -> None:
        attribute = record.message_attributes[CORRELATION_ID_ATTRIBUTE]  # None when absent
        set_correlation_id(attribute.string_value if attribute else record.message_id)
        try:
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
    @logger.inject_lambda_context(clear_state=True)
    def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )

    return handler
