"""WebhooksQueue consumer: one signed attempt per message; retries are scheduled by visibility."""

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from shared.kernel.messages import WEBHOOKS_QUEUE
from shared.queue.consumer import sqs_handler
from shared.webhooks.worker import process
from shared.wiring import webhook_deliverer, webhooks_dead_letters, webhooks_queue


def deliver_webhook(record: SQSRecord) -> None:
    message = WEBHOOKS_QUEUE.read(record.body)
    process(message, record.receipt_handle, webhook_deliverer(), webhooks_queue(), webhooks_dead_letters())


handler = sqs_handler(deliver_webhook)
