"""Helpers shared by the DynamoDB adapters: key layout and error translation."""

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from botocore.exceptions import BotoCoreError, ClientError

from shared.kernel.errors import TransientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, TransactWriteItemTypeDef

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


def lost_item(exc: ClientError, index: int = 0) -> Item | None:
    """The item as stored when a write sent with ``ReturnValuesOnConditionCheckFailure=ALL_OLD`` lost its
    condition (``index``: the write's place in a transaction); None when there is no such item."""
    if error_code(exc) == TRANSACTION_CANCELED:
        reasons = exc.response.get("CancellationReasons", [])
        return cast("Item | None", reasons[index].get("Item")) if index < len(reasons) else None
    return cast("Item | None", cast(dict[str, Any], exc.response).get("Item"))


class ConditionLostError(Exception):
    """A conditional write lost: ``current`` is the item as stored (None: there is none)."""

    def __init__(self, current: Item | None) -> None:
        super().__init__("the write's condition failed")
        self.current = current


def write_status_change(
    client: "DynamoDBClient",
    update: Mapping[str, Any],
    together: "list[TransactWriteItemTypeDef]",
    seen: str | tuple[str, ...],
) -> Item | None:
    """A status change: a conditional ``UpdateItem`` (on ``#status``) alone, or with ``together`` in one
    transaction (all or nothing).

    Alone it answers the item as written (``ALL_NEW``). A transaction answers nothing, so it answers None
    and the caller builds the result from the item it holds, read in status ``seen`` (or any of its stored
    spellings): the transaction is written only while the status is still that one. A lost condition
    raises ``ConditionLostError`` with the item as stored, which DynamoDB returns with the failure: nothing
    is read back either way.
    """
    spellings = (seen,) if isinstance(seen, str) else seen
    try:
        if together:
            names = {f":seen{index}": {"S": spelling} for index, spelling in enumerate(spellings)}
            pinned = {
                **update,
                "ConditionExpression": f"({update['ConditionExpression']}) AND #status IN ({', '.join(names)})",
                "ExpressionAttributeValues": {**update["ExpressionAttributeValues"], **names},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
            items: list[TransactWriteItemTypeDef] = [{"Update": cast(Any, pinned)}, *together]
            call(lambda: client.transact_write_items(TransactItems=items))
            return None
        response = call(
            lambda: client.update_item(**update, ReturnValues="ALL_NEW", ReturnValuesOnConditionCheckFailure="ALL_OLD")
        )
    except ClientError as exc:
        if is_condition_failure(exc):
            raise ConditionLostError(lost_item(exc)) from exc
        raise
    return response["Attributes"]


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
