"""WebhooksQueue consumer: one signed attempt per message; retries are scheduled by visibility."""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.observability import CORRELATION_ID_ATTRIBUTE, logger, metrics, set_correlation_id
from shared.queue.messages import DeliverWebhook
from shared.services import webhook_deliverer, webhooks_dead_letters, webhooks_queue
from shared.webhooks.worker import RetryScheduledError, process

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord) -> None:
    attribute = record.message_attributes[CORRELATION_ID_ATTRIBUTE]
    set_correlation_id(attribute.string_value if attribute else record.message_id)
    try:
        message = DeliverWebhook.from_body(record.body)
        process(message, record.receipt_handle, webhook_deliverer(), webhooks_queue(), webhooks_dead_letters())
    except RetryScheduledError:
        raise
    except Exception:
        logger.exception("record left for redelivery", extra={"message_id": record.message_id})
        raise


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
