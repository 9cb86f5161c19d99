"""The local stack's AWS emulator: a moto server in its own process, with ``tools.moto_speedups``.

The speed-ups replace how moto rolls back transactions and reads the clock for SQS; these tests pin
the behaviour the stack relies on, against the real emulator process over HTTP.
"""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tools.devstack import free_port
from tools.emulator import EmulatorProcess

TABLE = "emulated"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    emulator = EmulatorProcess("127.0.0.1", free_port())
    emulator.start()
    try:
        yield emulator.endpoint_url
    finally:
        emulator.stop()


def _client(endpoint: str, service: str) -> Any:
    session = boto3.session.Session(
        region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    return session.client(service, endpoint_url=endpoint)  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def dynamodb(endpoint: str) -> Any:
    client = _client(endpoint, "dynamodb")
    client.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return client


def _key(pk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": "A"}}


def _items(dynamodb: Any) -> dict[str, dict[str, Any]]:
    return {item["PK"]["S"]: item for item in dynamodb.scan(TableName=TABLE)["Items"]}


def test_a_cancelled_transaction_changes_nothing(dynamodb: Any) -> None:
    dynamodb.put_item(TableName=TABLE, Item={**_key("existing"), "n": {"N": "1"}})
    dynamodb.put_item(TableName=TABLE, Item={**_key("deleted"), "n": {"N": "1"}})
    before = _items(dynamodb)

    with pytest.raises(ClientError) as cancelled:
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": {**_key("new"), "n": {"N": "1"}}}},
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": _key("existing"),
                        "UpdateExpression": "SET n = n + :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
                {"Delete": {"TableName": TABLE, "Key": _key("deleted")}},
                {
                    "ConditionCheck": {
                        "TableName": TABLE,
                        "Key": _key("absent"),
                        "ConditionExpression": "attribute_exists(PK)",
                    }
                },
            ]
        )

    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert _items(dynamodb) == before


def test_a_transaction_that_passes_applies_every_write(dynamodb: Any) -> None:
    dynamodb.put_item(TableName=TABLE, Item={**_key("counter"), "n": {"N": "1"}})

    dynamodb.transact_write_items(
        TransactItems=[
            {
                "Put": {
                    "TableName": TABLE,
                    "Item": {**_key("created"), "n": {"N": "7"}},
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
            {
                "Update": {
                    "TableName": TABLE,
                    "Key": _key("counter"),
                    "UpdateExpression": "SET n = n + :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            },
        ]
    )

    items = _items(dynamodb)
    assert items["created"]["n"] == {"N": "7"}
    assert items["counter"]["n"] == {"N": "2"}


def test_queue_visibility_and_delays_still_hold(endpoint: str) -> None:
    sqs = _client(endpoint, "sqs")
    url = sqs.create_queue(QueueName="emulated", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="now")
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)

    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]

    assert [m["Body"] for m in first] == ["now"]
    assert again == []  # in flight for 30 s; the other is delayed for 60 s
    assert counts["ApproximateNumberOfMessagesNotVisible"] == "1"
    assert counts["ApproximateNumberOfMessagesDelayed"] == "1"
