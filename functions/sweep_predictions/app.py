"""Scheduled: re-queue predictions stuck in starting/processing, then fail them with ``timeout``; resume
batches that stopped making progress, then fail what is left of them with ``timeout`` and finish them."""

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.kernel.clock import utc_now
from shared.kernel.observability import logged_invocation, metrics
from shared.wiring import batch_sweeper, sweeper


@metrics.log_metrics
@logged_invocation
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    now = utc_now()
    predictions = asdict(sweeper().sweep(now))
    batches = {f"batches_{name}": value for name, value in asdict(batch_sweeper().sweep(now)).items()}
    return predictions | batches
