"""Queue mechanics of delivery: retries are visibility changes, exhausted deliveries go to the DLQ."""

from datetime import timedelta

from shared.kernel.clock import to_rfc3339, utc_now
from shared.kernel.errors import ExpectedRetryError
from shared.kernel.messages import DeliverWebhook
from shared.kernel.observability import logger
from shared.webhooks.models import AttemptConflictError, DeliveryNotFoundError, DeliveryStatus
from shared.webhooks.ports import DeliveryQueue, DeliveryStore
from shared.webhooks.service import AttemptResult, WebhookDeliverer

RELAY_AFTER = timedelta(minutes=2)


class RetryScheduledError(ExpectedRetryError):
    """Reported as a batch item failure so SQS redelivers the message when its visibility ends."""


def process(
    message: DeliverWebhook,
    receipt_handle: str,
    deliverer: WebhookDeliverer,
    queue: DeliveryQueue,
    dead_letters: DeliveryQueue,
) -> None:
    attempt = deliverer.attempt(message.tenant, message.prediction_id, message.delivery_id)
    if attempt.result is AttemptResult.RETRY and attempt.retry_in_seconds is not None:
        queue.postpone(receipt_handle, attempt.retry_in_seconds)
        raise RetryScheduledError(f"next attempt in {attempt.retry_in_seconds:.0f} s")
    if attempt.result is AttemptResult.PARK:
        dead_letters.send(message)
        logger.warning("webhook delivery parked in the dead-letter queue", extra={"delivery_id": message.delivery_id})


def relay(deliveries: DeliveryStore, queue: DeliveryQueue, pages: int = 10, page_size: int = 100) -> int:
    """Hand off committed deliveries whose hand-off was lost (nobody attempted them for a while).

    Each relayed entry's outbox time moves to now, so a slow queue does not get it again every run.
    """
    relayed = 0
    for _ in range(pages):
        cut_off = to_rfc3339(utc_now() - RELAY_AFTER)
        due = deliveries.outbox_due(cut_off, limit=page_size)
        for tenant, prediction_id, delivery_id in due:
            queue.send(DeliverWebhook(tenant=tenant, prediction_id=prediction_id, delivery_id=delivery_id))
            deliveries.postpone_outbox(tenant, prediction_id, delivery_id, to_rfc3339(utc_now()))
            relayed += 1
        if len(due) < page_size:
            break
    if relayed:
        logger.info("relayed webhook deliveries", extra={"count": relayed})
    return relayed


def redrive(dead_letters: DeliveryQueue, queue: DeliveryQueue, deliveries: DeliveryStore, limit: int = 1000) -> int:
    """Give every parked delivery a fresh retry schedule and queue it again. Returns how many moved."""
    moved = 0
    while moved < limit:
        batch = dead_letters.receive(limit=min(10, limit - moved), wait_seconds=1)  # long polling: empty means empty
        if not batch:
            break
        for message, receipt in batch:
            try:
                delivery = deliveries.get(message.tenant, message.prediction_id, message.delivery_id)
                if delivery.status is DeliveryStatus.FAILED:
                    deliveries.reopen(delivery)
            except (DeliveryNotFoundError, AttemptConflictError):
                pass  # expired, or redriven concurrently: the worker will find out
            queue.send(message)
            dead_letters.delete(receipt)
            moved += 1
    logger.info("redrove webhook deliveries", extra={"count": moved})
    return moved
