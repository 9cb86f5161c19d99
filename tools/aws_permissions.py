"""Which IAM permissions an AWS API call needs, per the Service Authorization Reference.

Most calls need their own action on one resource. Some do not:
- DynamoDB: a transaction needs the action of each item (``TransactWriteItems`` is no IAM action: a
  ``Put`` in it needs ``dynamodb:PutItem`` on its table), a batch needs its action on every table it
  names, a query of an index needs it on the index's ARN, and item calls carry the
  ``dynamodb:LeadingKeys`` condition key (the partition keys).
- SQS: a batch call is authorized by its single-message action (``SendMessageBatch`` needs
  ``sqs:SendMessage``).
- S3: ``DeleteObjects`` needs ``s3:DeleteObject`` on each key it names.
"""

import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Mapping
from typing import Any

from tools.iam_policy import Request

LEADING_KEYS = "dynamodb:LeadingKeys"
CONTEXT_KEYS = frozenset({LEADING_KEYS.lower()})  # the condition keys the requests made here carry
_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}
_ITEM_ACTIONS = {"GetItem": "Key", "DeleteItem": "Key", "UpdateItem": "Key", "PutItem": "Item"}
_EQUALITY = re.compile(r"(?P<name>#?[A-Za-z0-9_]+)\s*=\s*(?P<value>:[A-Za-z0-9_]+)")

HashKeyOf = Callable[[str], str | None]  # table name -> its partition key attribute (None: no such table)


def table_arn(region: str, account: str, table: str) -> str:
    return table if table.startswith("arn:") else f"arn:aws:dynamodb:{region}:{account}:table/{table}"


def dynamodb_requests(
    operation: str, body: Mapping[str, Any], region: str, account: str, hash_key_of: HashKeyOf
) -> list[Request]:
    """The permissions a DynamoDB call with JSON ``body`` needs."""

    def item_request(action: str, table: str, item: Mapping[str, Any] | None) -> Request:
        key = _partition_key(item or {}, hash_key_of(table))
        context = {LEADING_KEYS: (key,)} if key is not None else {}
        return Request(f"dynamodb:{action}", table_arn(region, account, table), context)

    if operation in _ITEM_ACTIONS:
        return [item_request(operation, body["TableName"], body.get(_ITEM_ACTIONS[operation]))]
    if operation == "TransactWriteItems":
        requests = []
        for entry in body.get("TransactItems", []):
            [(kind, item)] = entry.items()
            requests.append(
                item_request(_TRANSACT_ACTIONS[kind], item["TableName"], item.get("Key") or item.get("Item"))
            )
        return requests
    if operation == "TransactGetItems":
        return [
            item_request("GetItem", entry["Get"]["TableName"], entry["Get"].get("Key"))
            for entry in body.get("TransactItems", [])
        ]
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [
            Request(f"dynamodb:{operation}", table_arn(region, account, table))
            for table in body.get("RequestItems", {})
        ]
    table = body.get("TableName") or body.get("TableArn") or "*"
    resource = table_arn(region, account, table) if table != "*" else "*"
    if body.get("IndexName"):
        resource += f"/index/{body['IndexName']}"
    context: dict[str, tuple[str, ...]] = {}
    if operation == "Query":
        key = _queried_partition_key(body, hash_key_of(table) if table != "*" else None)
        context = {LEADING_KEYS: (key,)} if key is not None else {}
    return [Request(f"dynamodb:{operation}", resource, context)]


def sqs_action(operation: str) -> str:
    """The IAM action of an SQS call: a batch call's is its single-message action's."""
    return f"sqs:{operation.removesuffix('Batch')}"


def deleted_object_keys(body: bytes) -> list[str]:
    """The keys of an S3 ``DeleteObjects`` request body (``<Delete><Object><Key>…``)."""
    root = ElementTree.fromstring(body)  # noqa: S314 - the emulator parses its own test clients' requests
    return [element.text or "" for element in root.iter() if element.tag.rsplit("}", 1)[-1] == "Key"]


def _partition_key(item: Mapping[str, Any], attribute: str | None) -> str | None:
    value = item.get(attribute) if attribute else None
    if not isinstance(value, Mapping) or not value:
        return None
    return str(next(iter(value.values())))


def _queried_partition_key(body: Mapping[str, Any], attribute: str | None) -> str | None:
    """The value a query's key condition gives the table's partition key (an index's: not looked up)."""
    if attribute is None or body.get("IndexName"):
        return None
    names = body.get("ExpressionAttributeNames", {})
    for match in _EQUALITY.finditer(str(body.get("KeyConditionExpression", ""))):
        if names.get(match["name"], match["name"]) == attribute:
            value = body.get("ExpressionAttributeValues", {}).get(match["value"])
            return _partition_key({attribute: value}, attribute)
    return None
