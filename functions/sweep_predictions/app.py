"""Scheduled: re-queue predictions stuck in starting/processing, then fail them with ``timeout``."""

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.clock import utc_now
from shared.observability import logger, metrics
from shared.services import sweeper


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    return asdict(sweeper().sweep(utc_now()))
