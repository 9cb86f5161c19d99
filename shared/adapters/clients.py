"""AWS clients, created lazily on first use and reused for the life of the container.

The only place in ``shared`` that creates one (a test holds it): each client's timeouts and retries are
its policy of ``shared.kernel.call_policies``, where the reasons are written.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import boto3
from botocore.config import Config

from shared.kernel import tracing
from shared.kernel.call_policies import (
    DYNAMODB,
    INSPECTOR_INVOKE,
    S3,
    S3_DOWNLOAD_ATTEMPTS,
    SECRETS_MANAGER,
    SQS,
    AwsCallPolicy,
)
from shared.kernel.container import per_container

if TYPE_CHECKING:
    from boto3.s3.transfer import TransferConfig
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient

# A Lambda container serves one request at a time; the local stack shares these clients between its
# request threads, hence a pool larger than botocore's 10.
MAX_POOL_CONNECTIONS = 50


def client_config(policy: AwsCallPolicy) -> Config:
    """The botocore configuration of ``policy``: every timeout and retry setting explicit, none left to
    botocore's defaults or to the environment (``AWS_MAX_ATTEMPTS``, ``AWS_RETRY_MODE``)."""
    return Config(
        connect_timeout=policy.connect_seconds,
        read_timeout=policy.read_seconds,
        retries={"mode": policy.retry_mode, "total_max_attempts": policy.attempts},
        max_pool_connections=MAX_POOL_CONNECTIONS,
    )


def s3_transfer_config() -> "TransferConfig":
    """Downloads through s3transfer (model artifacts): each part's GET is an S3 call under ``S3``'s policy, and
    s3transfer tries a part whose body broke off at most ``S3_DOWNLOAD_ATTEMPTS`` times (instead of 5)."""
    from boto3.s3.transfer import TransferConfig  # download_file imports it anyway; no one else needs it

    return TransferConfig(num_download_attempts=S3_DOWNLOAD_ATTEMPTS)


C = TypeVar("C")

_SPAN = "infergate.span"  # where a call's span waits, in botocore's per-call context


def traced(client: C) -> C:
    """``client`` with a span per AWS call when tracing is on (``shared.kernel.tracing``), through botocore's
    own events on this client alone (no other client, no patching): named ``Service.Operation``, with the
    region, the status, AWS's request id, the retries and the error code, never a parameter or a value."""
    if tracing.enabled():
        events = cast(Any, client).meta.events
        # first: a handler that answers the call itself (botocore's Stubber in tests) ends the before-call event
        events.register_first("before-call.*.*", _call_started)
        events.register("after-call.*.*", _call_answered)
        events.register("after-call-error.*.*", _call_failed)
    return client


def _call_started(model: Any, context: dict[str, Any], **_: Any) -> None:
    service = model.service_model.service_id
    context[_SPAN] = tracing.start(
        f"{service}.{model.name}",
        {"rpc.system": "aws-api", "rpc.service": str(service), "rpc.method": model.name},
    )


def _call_answered(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    started: tracing.Started | None = context.pop(_SPAN, None)
    if started is None:
        return
    metadata = parsed.get("ResponseMetadata", {})
    status = metadata.get("HTTPStatusCode")
    error = parsed.get("Error", {}).get("Code")
    attributes = {
        "http.response.status_code": status,
        "aws.request_id": metadata.get("RequestId"),
        "aws.retry_attempts": metadata.get("RetryAttempts"),
    }
    failed = error or (str(status) if isinstance(status, int) and status >= 400 else None)
    started.end(attributes, error=str(failed) if failed else None)


def _call_failed(exception: BaseException, context: dict[str, Any], **_: Any) -> None:
    started: tracing.Started | None = context.pop(_SPAN, None)
    if started is not None:
        started.end(error=type(exception).__qualname__)


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
    return traced(boto3.client("dynamodb", config=client_config(DYNAMODB)))


@per_container
def sqs_client() -> "SQSClient":
    return traced(boto3.client("sqs", config=client_config(SQS)))


@per_container
def s3_client() -> "S3Client":
    # SigV4 everywhere, so presigned PUTs sign Content-Type and Content-Length.
    return traced(boto3.client("s3", config=client_config(S3).merge(Config(signature_version="s3v4"))))


@per_container
def secretsmanager_client() -> "SecretsManagerClient":
    return traced(boto3.client("secretsmanager", config=client_config(SECRETS_MANAGER)))


@per_container
def lambda_client() -> "LambdaClient":
    return traced(boto3.client("lambda", config=client_config(INSPECTOR_INVOKE)))
