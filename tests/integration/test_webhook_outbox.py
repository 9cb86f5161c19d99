"""The outbox on DynamoDB: a delivery exists if and only if its transition was written."""

import json
import os
from typing import Any

import boto3
import pytest

from shared.adapters.clients import dynamodb_client, sqs_client
from shared.adapters.dynamodb.deliveries import DynamoDeliveryStore
from shared.kernel.errors import TransientError
from shared.predictions.models import PredictionStatus, WebhookEvent
from shared.predictions.service import NewPrediction
from shared.wiring import prediction_service, prediction_store
from tests.support.faults import failing
from tools.provision import Stack


def _deliveries() -> DynamoDeliveryStore:
    return DynamoDeliveryStore(os.environ["TABLE_NAME"], dynamodb_client())


def _messages(stack: Stack) -> list[dict[str, Any]]:
    response = boto3.client("sqs").receive_message(QueueUrl=stack.refs["WebhooksQueue"], MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in response.get("Messages", [])]


def _submit(events: tuple[WebhookEvent, ...] = (WebhookEvent.COMPLETED,)) -> str:
    request = NewPrediction("echo", {"a": 1}, webhook="https://example.com/hook", webhook_events_filter=events)
    return prediction_service().create("acme", request, "req-outbox").id


def test_cancel_writes_the_completed_delivery_and_queues_it(stack: Stack) -> None:
    prediction_id = _submit()

    prediction_service().cancel("acme", prediction_id)

    [delivery] = _deliveries().list_for_prediction("acme", prediction_id)
    assert (delivery.event.value, delivery.status.value, delivery.attempts) == ("prediction.completed", "pending", 0)
    assert _messages(stack) == [{"tenant": "acme", "prediction_id": prediction_id, "delivery_id": delivery.id}]
    assert _deliveries().outbox_due("9999") == [("acme", prediction_id, delivery.id)]


def test_a_failed_transaction_writes_neither_the_status_nor_the_delivery(stack: Stack) -> None:
    prediction_id = _submit()

    with failing(dynamodb_client(), "TransactWriteItems", times=5), pytest.raises(TransientError):
        prediction_service().cancel("acme", prediction_id)

    assert prediction_store().get("acme", prediction_id).status is PredictionStatus.STARTING
    assert _deliveries().list_for_prediction("acme", prediction_id) == []
    assert _messages(stack) == []


def test_a_lost_hand_off_leaves_the_delivery_in_the_outbox(stack: Stack) -> None:
    prediction_id = _submit()
    with failing(sqs_client(), "SendMessage", code="ServiceUnavailable", times=5):
        prediction_service().cancel("acme", prediction_id)

    [delivery] = _deliveries().list_for_prediction("acme", prediction_id)
    assert prediction_store().get("acme", prediction_id).status is PredictionStatus.CANCELED
    assert _messages(stack) == []
    assert _deliveries().outbox_due("9999") == [("acme", prediction_id, delivery.id)]


def test_predictions_without_webhooks_write_no_deliveries(stack: Stack) -> None:
    prediction_id = prediction_service().create("acme", NewPrediction("echo", {}), None).id

    prediction_service().cancel("acme", prediction_id)

    assert _deliveries().list_for_prediction("acme", prediction_id) == []


def test_the_relay_hands_off_lost_deliveries_once_per_window(stack: Stack) -> None:
    from shared.webhooks.worker import relay
    from shared.wiring import delivery_store, webhooks_queue

    prediction_id = _submit()
    with failing(sqs_client(), "SendMessage", code="ServiceUnavailable", times=5):
        prediction_service().cancel("acme", prediction_id)
    [delivery] = _deliveries().list_for_prediction("acme", prediction_id)
    table, key = (
        os.environ["TABLE_NAME"],
        {"PK": {"S": "TENANT#acme"}, "SK": {"S": f"DLVR#{prediction_id}#{delivery.id}"}},
    )
    dynamodb_client().update_item(  # committed three minutes ago: overdue
        TableName=table,
        Key=key,
        UpdateExpression="SET outbox_sk = :sk",
        ExpressionAttributeValues={":sk": {"S": f"2000-01-01T00:00:00.000Z#acme#{prediction_id}#{delivery.id}"}},
    )

    first = relay(delivery_store(), webhooks_queue())
    second = relay(delivery_store(), webhooks_queue())

    assert (first, second) == (1, 0)
    assert _messages(stack) == [{"tenant": "acme", "prediction_id": prediction_id, "delivery_id": delivery.id}]


def test_a_transaction_cancelled_by_a_conflict_is_transient(stack: Stack) -> None:
    prediction_id = _submit()

    with (
        failing(dynamodb_client(), "TransactWriteItems", code="TransactionCanceledException"),
        pytest.raises(TransientError),
    ):
        prediction_service().cancel("acme", prediction_id)

    assert prediction_store().get("acme", prediction_id).status is PredictionStatus.STARTING
