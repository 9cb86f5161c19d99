"""AWS clients, created lazily on first use and reused for the life of the container."""

from functools import cache
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient

# Fail fast inside Lambda time budgets; botocore's "standard" mode retries throttling with backoff.
_CONFIG = Config(connect_timeout=2, read_timeout=8, retries={"mode": "standard", "max_attempts": 3})


@cache
def dynamodb_client() -> "DynamoDBClient":
    return boto3.client("dynamodb", config=_CONFIG)


@cache
def sqs_client() -> "SQSClient":
    return boto3.client("sqs", config=_CONFIG)


def reset_clients() -> None:
    """Drop cached clients (tests switch endpoints and credentials)."""
    dynamodb_client.cache_clear()
    sqs_client.cache_clear()
