"""Which IAM permissions an AWS call needs (tools.aws_permissions), where it is not its own action."""

from collections.abc import Mapping
from typing import Any

from tools.aws_permissions import LEADING_KEYS, deleted_object_keys, dynamodb_requests, sqs_action
from tools.iam_policy import Request

REGION, ACCOUNT = "us-east-1", "123456789012"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/t"


def hash_key_of(table: str) -> str | None:
    return {"t": "PK", "u": "id"}.get(table)


def requests_of(operation: str, body: Mapping[str, Any]) -> list[Request]:
    return dynamodb_requests(operation, body, REGION, ACCOUNT, hash_key_of)


def test_an_item_call_needs_its_action_on_the_table_with_the_partition_key_as_leading_key() -> None:
    assert requests_of("UpdateItem", {"TableName": "t", "Key": {"PK": {"S": "RATE#k"}, "SK": {"S": "x"}}}) == [
        Request("dynamodb:UpdateItem", TABLE, {LEADING_KEYS: ("RATE#k",)})
    ]
    assert requests_of("PutItem", {"TableName": "u", "Item": {"id": {"N": "7"}}}) == [
        Request("dynamodb:PutItem", TABLE.replace("/t", "/u"), {LEADING_KEYS: ("7",)})
    ]


def test_a_transaction_needs_each_items_own_action_not_a_transact_action() -> None:
    body = {
        "TransactItems": [
            {"Put": {"TableName": "t", "Item": {"PK": {"S": "KEY#1"}}}},
            {"Update": {"TableName": "t", "Key": {"PK": {"S": "TENANT#a"}}}},
            {"ConditionCheck": {"TableName": "u", "Key": {"id": {"S": "c"}}}},
            {"Delete": {"TableName": "t", "Key": {"PK": {"S": "OLD#1"}}}},
        ]
    }

    assert [
        (r.action, r.resource.rsplit("/", 1)[1], r.context[LEADING_KEYS])
        for r in requests_of("TransactWriteItems", body)
    ] == [
        ("dynamodb:PutItem", "t", ("KEY#1",)),
        ("dynamodb:UpdateItem", "t", ("TENANT#a",)),
        ("dynamodb:ConditionCheckItem", "u", ("c",)),
        ("dynamodb:DeleteItem", "t", ("OLD#1",)),
    ]
    got = requests_of("TransactGetItems", {"TransactItems": [{"Get": {"TableName": "t", "Key": {"PK": {"S": "A"}}}}]})
    assert got == [Request("dynamodb:GetItem", TABLE, {LEADING_KEYS: ("A",)})]


def test_a_query_names_its_index_and_the_partition_key_its_condition_gives() -> None:
    query = {
        "TableName": "t",
        "KeyConditionExpression": "#pk = :pk AND begins_with(SK, :prefix)",
        "ExpressionAttributeNames": {"#pk": "PK"},
        "ExpressionAttributeValues": {":pk": {"S": "TENANT#a"}, ":prefix": {"S": "P#"}},
    }

    assert requests_of("Query", query) == [Request("dynamodb:Query", TABLE, {LEADING_KEYS: ("TENANT#a",)})]
    assert requests_of("Query", {**query, "IndexName": "Outbox"}) == [
        Request("dynamodb:Query", f"{TABLE}/index/Outbox", {})
    ]


def test_a_batch_needs_its_action_on_every_table_it_names() -> None:
    body: dict[str, Any] = {"RequestItems": {"t": [], "u": []}}

    assert [r.resource for r in requests_of("BatchWriteItem", body)] == [TABLE, TABLE.replace("/t", "/u")]
    assert {r.action for r in requests_of("BatchGetItem", body)} == {"dynamodb:BatchGetItem"}


def test_other_calls_need_their_own_action_on_the_table() -> None:
    assert requests_of("DescribeTable", {"TableName": "t"}) == [Request("dynamodb:DescribeTable", TABLE)]


def test_an_sqs_batch_call_is_authorized_by_its_single_message_action() -> None:
    assert [sqs_action(op) for op in ("SendMessageBatch", "DeleteMessageBatch", "ChangeMessageVisibilityBatch")] == [
        "sqs:SendMessage",
        "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility",
    ]
    assert sqs_action("ReceiveMessage") == "sqs:ReceiveMessage"


def test_delete_objects_names_each_key() -> None:
    body = (
        b'<?xml version="1.0"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        b"<Object><Key>uploads/a</Key></Object><Object><Key>uploads/b c</Key></Object><Quiet>true</Quiet></Delete>"
    )

    assert deleted_object_keys(body) == ["uploads/a", "uploads/b c"]
