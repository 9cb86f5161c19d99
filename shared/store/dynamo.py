"""Helpers shared by the DynamoDB adapters: key layout and error translation."""

from collections.abc import Callable
from typing import TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from shared.errors import TransientError

T = TypeVar("T")

TRANSIENT_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionConflictException",
    }
)
CONDITION_FAILED = "ConditionalCheckFailedException"
TRANSACTION_CANCELED = "TransactionCanceledException"


def tenant_pk(tenant: str) -> str:
    return f"TENANT#{tenant}"


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def is_condition_failure(exc: ClientError) -> bool:
    code = error_code(exc)
    if code == CONDITION_FAILED:
        return True
    if code == TRANSACTION_CANCELED:
        reasons = exc.response.get("CancellationReasons", [])
        return any(reason.get("Code") == "ConditionalCheckFailed" for reason in reasons)
    return False


def call(operation: Callable[[], T]) -> T:
    """Run one AWS call, turning throttling and network faults into ``TransientError``."""
    try:
        return operation()
    except ClientError as exc:
        if error_code(exc) in TRANSIENT_CODES:
            raise TransientError(f"DynamoDB is unavailable ({error_code(exc)})") from exc
        if error_code(exc) == TRANSACTION_CANCELED and not is_condition_failure(exc):
            # Cancelled by a conflicting transaction or throttling, not by our conditions: retry it.
            raise TransientError("a DynamoDB transaction conflicted") from exc
        raise
    except BotoCoreError as exc:
        raise TransientError("DynamoDB could not be reached") from exc
