"""Helpers shared by the DynamoDB adapters: key layout and error translation."""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from shared.kernel.errors import TransientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

T = TypeVar("T")
Item = dict[str, "AttributeValueTypeDef"]

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


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


R = TypeVar("R", bound=_HasId)


def newest_first_page(
    client: "DynamoDBClient",
    table: str,
    tenant: str,
    prefix: str,
    limit: int,
    after: str | None,
    parse: Callable[[Item], R],
) -> tuple[list[R], str | None]:
    """One page of a tenant's items whose sort key is ``prefix`` + a time-sortable id, newest first.

    Returns the page and the id to resume after (None on the last page). One more item than asked is
    read, so a page that ends exactly at the last item says so without an empty extra page.
    """
    query: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
        "ExpressionAttributeValues": {":pk": {"S": tenant_pk(tenant)}, ":prefix": {"S": prefix}},
        "ScanIndexForward": False,
        "Limit": limit + 1,
    }
    if after is not None:
        query["ExclusiveStartKey"] = {"PK": {"S": tenant_pk(tenant)}, "SK": {"S": prefix + after}}
    response = call(lambda: client.query(**query))
    items = [parse(item) for item in response.get("Items", [])]
    if len(items) > limit:
        return items[:limit], items[limit - 1].id
    more = "LastEvaluatedKey" in response and bool(items)
    return items, items[-1].id if more else None
