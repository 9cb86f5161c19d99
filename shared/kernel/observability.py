"""Structured logs and metrics (Powertools), and the correlation id that ties them together.

The correlation id is the API request id; it travels to workers as an SQS message attribute.
"""

from aws_lambda_powertools import Logger, Metrics

SERVICE_NAME = "infergate"
METRICS_NAMESPACE = "Infergate"
CORRELATION_ID_ATTRIBUTE = "correlation_id"

logger = Logger(service=SERVICE_NAME)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE_NAME)


def set_correlation_id(value: str | None) -> None:
    logger.set_correlation_id(value)


def correlation_id() -> str | None:
    return logger.get_correlation_id()
