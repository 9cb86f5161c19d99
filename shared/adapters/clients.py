"""AWS clients, created lazily on first use and reused for the life of the container."""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import boto3
from botocore.config import Config

from shared.kernel.container import per_container

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient

# Fail fast inside Lambda time budgets; botocore's "standard" mode retries throttling with backoff.
# A Lambda container serves one request at a time; the local stack shares these clients between its
# request threads, hence a pool larger than botocore's 10.
_CONFIG = Config(
    connect_timeout=2, read_timeout=8, retries={"mode": "standard", "max_attempts": 3}, max_pool_connections=50
)


C = TypeVar("C")


def lazily(client: Callable[[], C]) -> C:
    """A stand-in for ``client()`` that calls it when first used, for the services the wiring builds:
    a request that never reaches a queue or a bucket does not pay for creating its client (botocore
    loads the service's model and endpoint rules, about 30 ms of a cold start)."""
    return cast(C, _OnFirstUse(client))


class _OnFirstUse:
    __slots__ = ("_client",)

    def __init__(self, client: Callable[[], Any]) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client(), name)  # the accessors below are per container: made once


@per_container
def dynamodb_client() -> "DynamoDBClient":
    return boto3.client("dynamodb", config=_CONFIG)


@per_container
def sqs_client() -> "SQSClient":
    return boto3.client("sqs", config=_CONFIG)


@per_container
def s3_client() -> "S3Client":
    # SigV4 everywhere, so presigned PUTs sign Content-Type and Content-Length.
    return boto3.client("s3", config=_CONFIG.merge(Config(signature_version="s3v4", read_timeout=30)))


@per_container
def secretsmanager_client() -> "SecretsManagerClient":
    return boto3.client("secretsmanager", config=_CONFIG)


@per_container
def lambda_client() -> "LambdaClient":
    # A synchronous invoke of the artifact inspector may take most of the API's time budget.
    return boto3.client("lambda", config=_CONFIG.merge(Config(read_timeout=25, retries={"max_attempts": 1})))
