"""The sparse ``Sweep`` index: unfinished items carry ``sweep_pk`` (their kind's partition) and
``sweep_at`` (their deadline); the sweepers read what is overdue and move deadlines conditionally."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from shared.adapters.dynamodb.table import Item, call, is_condition_failure

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SWEEP_INDEX = "Sweep"


@dataclass(frozen=True)
class SweepEntry:
    tenant: str
    item_id: str  # the sort key without its prefix
    deadline: str
    sweeps: int


def overdue_entries(
    client: "DynamoDBClient", table: str, partition: str, prefix: str, now: str, limit: int
) -> list[SweepEntry]:
    """Up to ``limit`` entries of ``partition`` whose deadline is before ``now``, oldest deadline first."""
    response = call(
        lambda: client.query(
            TableName=table,
            IndexName=SWEEP_INDEX,
            KeyConditionExpression="sweep_pk = :pk AND sweep_at < :now",
            ExpressionAttributeValues={":pk": {"S": partition}, ":now": {"S": now}},
            Limit=limit,
        )
    )
    return [
        SweepEntry(
            tenant=item["PK"]["S"].removeprefix("TENANT#"),
            item_id=item["SK"]["S"].removeprefix(prefix),
            deadline=item["sweep_at"]["S"],
            sweeps=int(item["sweeps"]["N"]) if "sweeps" in item else 0,
        )
        for item in response.get("Items", [])
    ]


def postpone_entry(
    client: "DynamoDBClient", table: str, key: Item, seen: str, next_deadline: str, unfinished: Iterable[str]
) -> Item | None:
    """Count one more sweep and move the deadline from ``seen`` to ``next_deadline``: the item as written;
    None when it is no longer in one of the ``unfinished`` statuses or its deadline moved (progress, or
    another sweeper)."""
    statuses = {f":s{index}": {"S": status} for index, status in enumerate(unfinished)}
    try:
        response = call(
            lambda: client.update_item(
                TableName=table,
                Key=key,
                UpdateExpression="SET sweep_at = :next ADD sweeps :one",
                ConditionExpression=f"sweep_at = :seen AND #status IN ({', '.join(statuses)})",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":next": {"S": next_deadline},
                    ":one": {"N": "1"},
                    ":seen": {"S": seen},
                    **statuses,
                },
                ReturnValues="ALL_NEW",
            )
        )
    except ClientError as exc:
        if is_condition_failure(exc):
            return None
        raise
    return response["Attributes"]
