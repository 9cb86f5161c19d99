"""The operator commands, run by ``RunAdminCommandFunction`` under its own role, against moto: mint a
first key, show what the dead-letter queues hold without consuming it, and move it back."""

from typing import Any

import boto3
import pytest

from shared.adapters.dynamodb.deliveries import DynamoDeliveryStore, delivery_item
from shared.kernel.messages import BATCHES_QUEUE, WEBHOOKS_QUEUE, BatchStep, BatchStepKind, DeliverWebhook
from shared.kernel.outbox import EventType, PlannedDelivery
from shared.keys.models import Scope
from shared.operations.commands import MAX_REDRIVE, SHOWN_BODY_CHARS
from shared.predictions.models import PredictionStatus
from shared.predictions.service import NewPrediction
from shared.webhooks.models import AttemptOutcome, DeliveryStatus
from shared.wiring import key_service, prediction_service, prediction_store
from tools.lambda_runtime import invoke_function
from tools.provision import Stack
from tools.sqs_events import lambda_event

BATCH_ID = "bat_01JD5YB4W3ZV0B4S8FZ7Q6N9AA"
PREDICTION_ID = "pred_01JD5YB4W3ZV0B4S8FZ7Q6N9XK"


def admin(command: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = invoke_function("RunAdminCommandFunction", command)
    return answer


def test_a_minted_key_authenticates_with_its_scopes_and_its_secret_is_answered_once(stack: Stack) -> None:
    minted = admin({"command": "mint-key", "tenant": "globex", "scopes": ["predict"]})["result"]

    caller = key_service().authenticate(minted["key"], Scope.PREDICT)
    assert (caller.tenant, caller.principal_id) == ("globex", minted["id"])
    assert (minted["name"], minted["scopes"]) == ("bootstrap admin", ["predict"])
    with pytest.raises(Exception, match="scope"):
        key_service().authenticate(minted["key"], Scope.ADMIN)


@pytest.mark.parametrize(
    ("command", "kind", "named"),
    [
        ({"command": "mint-key", "tenant": "Not Valid"}, "invalid-tenant", "tenant"),
        ({"command": "mint-key", "tenant": "acme", "scopes": ["root"]}, "invalid-command", "scopes"),
        ({"command": "mint-key", "tenant": "acme", "scopes": []}, "invalid-command", "scopes"),
        ({"command": "redrive", "queue": "nothing"}, "invalid-command", "queue"),
        ({"command": "redrive", "queue": "batches", "limit": MAX_REDRIVE + 1}, "invalid-command", "limit"),
        ({"command": "show-dead-letters", "limit": 0}, "invalid-command", "limit"),
        ({"command": "drop-table"}, "invalid-command", "command"),
        ({"tenant": "acme"}, "invalid-command", "command"),
    ],
)
def test_a_command_it_cannot_run_is_refused_saying_why_and_changes_nothing(
    stack: Stack, command: dict[str, Any], kind: str, named: str
) -> None:
    answer = admin(command)

    assert answer["error"]["type"] == kind
    assert named in answer["error"]["detail"]
    assert "result" not in answer
    assert boto3.client("dynamodb").scan(TableName=stack.refs["Table"])["Count"] == 0


def test_parked_predictions_are_shown_without_being_consumed_then_redriven_to_a_finished_run(stack: Stack) -> None:
    sqs = boto3.client("sqs")
    prediction_id = prediction_service().create("acme", NewPrediction("echo", {"n": 1}), "req-dlq").id
    queued = sqs.receive_message(QueueUrl=stack.refs["PredictionsQueue"], MaxNumberOfMessages=10)["Messages"]
    for message in queued:  # what SQS does after the last failed receive
        sqs.send_message(QueueUrl=stack.refs["PredictionsDLQ"], MessageBody=message["Body"])
        sqs.delete_message(QueueUrl=stack.refs["PredictionsQueue"], ReceiptHandle=message["ReceiptHandle"])

    listed = admin({"command": "show-dead-letters"})["result"]["messages"]
    listed_again = admin({"command": "show-dead-letters", "queue": "predictions"})["result"]["messages"]
    redriven = admin({"command": "redrive", "queue": "predictions"})["result"]
    messages = sqs.receive_message(QueueUrl=stack.refs["PredictionsQueue"], MaxNumberOfMessages=10)["Messages"]
    result = invoke_function(
        "RunPredictionsFunction", lambda_event([dict(m) for m in messages], stack.arns["PredictionsQueue"], "us-east-1")
    )

    assert [(m["queue"], m["body"]) for m in listed] == [
        ("predictions", {"tenant": "acme", "prediction_id": prediction_id})
    ]
    assert listed[0]["receive_count"] >= 1
    assert listed[0]["sent_timestamp"] > 0
    assert [m["message_id"] for m in listed_again] == [m["message_id"] for m in listed]  # peeking consumed nothing
    assert redriven == {"queue": "predictions", "redriven": 1, "more": False}
    assert admin({"command": "show-dead-letters"})["result"]["messages"] == []
    assert result == {"batchItemFailures": []}
    assert prediction_store().get("acme", prediction_id).status is PredictionStatus.SUCCEEDED


def test_a_listing_stops_at_its_limit_says_so_and_shows_a_body_that_is_not_json_as_text(stack: Stack) -> None:
    sqs = boto3.client("sqs")
    for n in range(3):
        sqs.send_message(QueueUrl=stack.refs["PredictionsDLQ"], MessageBody=f"not json {n}")
    sqs.send_message(QueueUrl=stack.refs["BatchesDLQ"], MessageBody="x" * (SHOWN_BODY_CHARS + 100))

    first = admin({"command": "show-dead-letters", "limit": 2})["result"]
    everything = admin({"command": "show-dead-letters"})["result"]

    assert [m["queue"] for m in first["messages"]] == ["predictions", "predictions", "batches"]
    assert first["truncated"] == ["predictions"]
    assert sorted(m["body"] for m in everything["messages"] if m["queue"] == "predictions") == [
        f"not json {n}" for n in range(3)
    ]
    [long] = [m["body"] for m in everything["messages"] if m["queue"] == "batches"]
    assert long == "x" * SHOWN_BODY_CHARS + "..."
    assert everything["truncated"] == []


def test_a_redrive_moves_at_most_its_limit_and_says_there_is_more(stack: Stack) -> None:
    sqs = boto3.client("sqs")
    bodies = [
        BATCHES_QUEUE.write(BatchStep(kind=BatchStepKind.FINALIZE, tenant="acme", batch_id=BATCH_ID[:-2] + f"{n:02d}"))
        for n in range(3)
    ]
    for body in bodies:
        sqs.send_message(QueueUrl=stack.refs["BatchesDLQ"], MessageBody=body)

    first = admin({"command": "redrive", "queue": "batches", "limit": 2})["result"]
    second = admin({"command": "redrive", "queue": "batches", "limit": 2})["result"]
    back = sqs.receive_message(QueueUrl=stack.refs["BatchesQueue"], MaxNumberOfMessages=10)["Messages"]

    assert (first["redriven"], first["more"], second["redriven"], second["more"]) == (2, True, 1, False)
    assert sorted(m["Body"] for m in back) == sorted(bodies)


def test_parked_webhook_deliveries_are_redriven_with_a_fresh_schedule(stack: Stack) -> None:
    deliveries = DynamoDeliveryStore(stack.refs["Table"], boto3.client("dynamodb"))
    planned = PlannedDelivery(
        "dlv_01JD5YB4W3ZV0B4S8FZ7Q6N9XP", EventType.PREDICTION_COMPLETED, "https://example.com/h", 2_000_000_000
    )
    boto3.client("dynamodb").put_item(
        TableName=stack.refs["Table"],
        Item=delivery_item("acme", PREDICTION_ID, planned, "2026-11-21T00:00:00.000Z"),
    )
    parked = deliveries.record_attempt(
        deliveries.get("acme", PREDICTION_ID, planned.id),
        AttemptOutcome(DeliveryStatus.FAILED, "2026-11-22T00:00:00.000Z", 500, None, None),
    )
    message = DeliverWebhook(tenant="acme", prediction_id=PREDICTION_ID, delivery_id=planned.id)
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=stack.refs["WebhooksDLQ"], MessageBody=WEBHOOKS_QUEUE.write(message))

    shown = admin({"command": "show-dead-letters", "queue": "webhooks"})["result"]["messages"]
    redriven = admin({"command": "redrive", "queue": "webhooks"})["result"]

    reopened = deliveries.get("acme", PREDICTION_ID, planned.id)
    assert [m["body"]["delivery_id"] for m in shown] == [planned.id]
    assert redriven == {"queue": "webhooks", "redriven": 1, "more": False}
    assert (parked.status, reopened.status, reopened.round_attempts, reopened.attempts) == (
        DeliveryStatus.FAILED,
        DeliveryStatus.PENDING,
        0,
        1,
    )
    queued = sqs.receive_message(QueueUrl=stack.refs["WebhooksQueue"])["Messages"]
    assert [WEBHOOKS_QUEUE.read(m["Body"]) for m in queued] == [message]
    assert "Messages" not in sqs.receive_message(QueueUrl=stack.refs["WebhooksDLQ"])
