"""The redrive command against a moto server standing in for the running local stack."""

import json
import os
from pathlib import Path

import boto3
import pytest

from shared.adapters.dynamodb.deliveries import DynamoDeliveryStore, delivery_item
from shared.kernel.messages import WEBHOOKS_QUEUE, DeliverWebhook
from shared.kernel.outbox import EventType, PlannedDelivery
from shared.webhooks.models import AttemptOutcome, DeliveryStatus
from tools import stack_target, webhooks
from tools.aws_identity import stop_routing
from tools.devstack import serve_functions, state_document, write_state
from tools.emulator import EmulatorProcess
from tools.stack_process import free_port as _free_port
from tools.template import load_template


def test_redrive_moves_parked_deliveries_back_with_a_fresh_schedule(
    aws_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    aws = EmulatorProcess("127.0.0.1", _free_port())
    aws.start()
    saved = dict(os.environ)
    try:
        stack, roles, functions = serve_functions(load_template(), aws.endpoint_url, {})
        functions.stop()
        state = tmp_path / "state.json"
        write_state(
            state_document(
                load_template(), stack, roles, base_url="", aws_endpoint_url=aws.endpoint_url, lambda_endpoint_url=""
            ),
            state,
        )
        monkeypatch.setattr(stack_target, "STATE_FILE", state)
        deliveries = DynamoDeliveryStore(stack.refs["Table"], boto3.client("dynamodb"))
        planned = PlannedDelivery(
            "dlv_01JD5YB4W3ZV0B4S8FZ7Q6N9XP", EventType.PREDICTION_COMPLETED, "https://example.com/h", 2_000_000_000
        )
        boto3.client("dynamodb").put_item(
            TableName=stack.refs["Table"],
            Item=delivery_item("acme", "pred_01JD5YB4W3ZV0B4S8FZ7Q6N9XK", planned, "2026-11-21T00:00:00.000Z"),
        )
        parked = deliveries.record_attempt(
            deliveries.get("acme", "pred_01JD5YB4W3ZV0B4S8FZ7Q6N9XK", planned.id),
            AttemptOutcome(DeliveryStatus.FAILED, "2026-11-22T00:00:00.000Z", 500, None, None),
        )
        message = DeliverWebhook(tenant="acme", prediction_id="pred_01JD5YB4W3ZV0B4S8FZ7Q6N9XK", delivery_id=planned.id)
        boto3.client("sqs").send_message(QueueUrl=stack.refs["WebhooksDLQ"], MessageBody=WEBHOOKS_QUEUE.write(message))

        code = webhooks.main(["redrive", "--local"])

        assert code == 0
        assert json.loads(capsys.readouterr().out) == {"redriven": 1}
        reopened = deliveries.get("acme", "pred_01JD5YB4W3ZV0B4S8FZ7Q6N9XK", planned.id)
        assert (parked.status, reopened.status, reopened.round_attempts, reopened.attempts) == (
            DeliveryStatus.FAILED,
            DeliveryStatus.PENDING,
            0,
            1,
        )
        queued = boto3.client("sqs").receive_message(QueueUrl=stack.refs["WebhooksQueue"])["Messages"]
        assert [WEBHOOKS_QUEUE.read(m["Body"]) for m in queued] == [message]
        assert "Messages" not in boto3.client("sqs").receive_message(QueueUrl=stack.refs["WebhooksDLQ"])
    finally:
        stop_routing()
        os.environ.clear()
        os.environ.update(saved)
        aws.stop()


def test_redrive_needs_a_target(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stack_target, "STATE_FILE", tmp_path / "missing.json")

    assert webhooks.main(["redrive"]) == 2
    assert webhooks.main(["redrive", "--local"]) == 2
    assert "no local stack" in capsys.readouterr().err
