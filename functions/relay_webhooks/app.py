"""Scheduled: hand off webhook deliveries whose hand-off was lost between commit and enqueue."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.kernel.observability import logged_invocation, metrics
from shared.webhooks.worker import relay
from shared.wiring import delivery_store, webhooks_queue


@metrics.log_metrics
@logged_invocation
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    return {"relayed": relay(delivery_store(), webhooks_queue())}
