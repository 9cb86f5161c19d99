"""Webhook delivery end to end on moto: real handlers, a real receiver on 127.0.0.1, reference verification."""

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest

from shared.predictions.models import WebhookEvent
from shared.predictions.service import NewPrediction
from shared.wiring import delivery_queries, prediction_service, prediction_store, reset, secret_service
from tests.conftest import CapturedLogs
from tests.support.events import response_json
from tests.support.gateway import call
from tests.support.receiver import Receiver, receiver
from tools.lambda_runtime import invoke_function
from tools.provision import Stack
from tools.sqs_events import lambda_event

START, COMPLETED = WebhookEvent.START, WebhookEvent.COMPLETED


@pytest.fixture
def local_receivers(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Stack:
    """Loopback http receivers allowed (as in the local stack) and a schedule shrunk to milliseconds."""
    monkeypatch.setenv("WEBHOOKS_ALLOW_INSECURE", "true")
    monkeypatch.setenv("WEBHOOK_RETRY_SCALE", "0.00001")  # every delay rounds to 0 s of visibility
    reset()
    return stack


def _drain(stack: Stack, queue: str, function: str) -> int:
    """Deliver every visible message of a queue to its function, as Lambda's poller would. Returns how many."""
    sqs = boto3.client("sqs")
    response = sqs.receive_message(
        QueueUrl=stack.refs[queue], MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=30
    )
    messages: list[dict[str, Any]] = [dict(m) for m in response.get("Messages", [])]
    if not messages:
        return 0
    result = invoke_function(function, lambda_event(messages, stack.arns[queue], "us-east-1"))
    failed = {item["itemIdentifier"] for item in result["batchItemFailures"]}
    for message in messages:
        if message["MessageId"] not in failed:
            sqs.delete_message(QueueUrl=stack.refs[queue], ReceiptHandle=message["ReceiptHandle"])
    return len(messages)


def _deliver_until_quiet(stack: Stack, rounds: int = 30) -> None:
    for _ in range(rounds):
        if _drain(stack, "WebhooksQueue", "DeliverWebhooksFunction") == 0:
            return


def _submit(target: Receiver, events: tuple[WebhookEvent, ...] = (COMPLETED,), model: str = "sentiment") -> str:
    request = NewPrediction(model, {"text": "Lovely!"}, webhook=target.url, webhook_events_filter=events)
    return prediction_service().create("acme", request, "req-webhook").id


def _queue_depth(stack: Stack, queue: str) -> int:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=stack.refs[queue],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def test_started_and_completed_events_arrive_signed_with_the_prediction_as_get_returns_it(
    local_receivers: Stack,
) -> None:
    with receiver() as target:
        prediction_id = _submit(target, (START, COMPLETED))
        _drain(local_receivers, "PredictionsQueue", "RunPredictionsFunction")
        _deliver_until_quiet(local_receivers)

    payloads = target.verified(secret_service().current("acme").current)
    by_type = {p["type"]: p for p in payloads}
    assert sorted(by_type) == ["prediction.completed", "prediction.started"]
    assert by_type["prediction.started"]["data"]["status"] == "processing"
    assert by_type["prediction.started"]["data"]["output"] is None
    completed = by_type["prediction.completed"]["data"]
    got = response_json(call("GET", f"/v1/predictions/{prediction_id}", headers=_admin_headers()))
    assert completed == {**got, "urls": completed["urls"]}
    assert completed["urls"]["get"].endswith(f"/v1/predictions/{prediction_id}")
    assert all(r.headers["content-type"] == "application/json" for r in target.requests)
    deliveries = delivery_queries().for_prediction("acme", prediction_id)
    assert [(d.status.value, d.attempts, d.last_status_code) for d in deliveries] == [("delivered", 1, 200)] * 2


def test_a_receiver_failing_three_times_gets_one_accepted_event_with_one_stable_id(local_receivers: Stack) -> None:
    with receiver([500, 502, 503, 200]) as target:
        prediction_id = _submit(target)
        _drain(local_receivers, "PredictionsQueue", "RunPredictionsFunction")
        _deliver_until_quiet(local_receivers)

    verified = target.verified(secret_service().current("acme").current)
    assert len(target.requests) == 4
    assert len({r.headers["webhook-id"] for r in target.requests}) == 1
    assert len({json.dumps(v, sort_keys=True) for v in verified}) == 1  # the same event every time
    [delivery] = delivery_queries().for_prediction("acme", prediction_id)
    assert (delivery.status.value, delivery.attempts, delivery.last_status_code) == ("delivered", 4, 200)
    assert _queue_depth(local_receivers, "WebhooksQueue") == 0


def test_410_gone_stops_retries(local_receivers: Stack) -> None:
    with receiver([410]) as target:
        prediction_id = _submit(target)
        _drain(local_receivers, "PredictionsQueue", "RunPredictionsFunction")
        _deliver_until_quiet(local_receivers)

    [delivery] = delivery_queries().for_prediction("acme", prediction_id)
    assert len(target.requests) == 1
    assert (delivery.status.value, delivery.attempts, delivery.last_status_code) == ("gone", 1, 410)
    assert _queue_depth(local_receivers, "WebhooksQueue") == 0


def test_an_always_failing_receiver_ends_in_the_dlq_and_redrive_delivers_it(local_receivers: Stack) -> None:
    from shared.webhooks.worker import redrive
    from shared.wiring import delivery_store, webhooks_dead_letters, webhooks_queue

    with receiver([500]) as target:
        prediction_id = _submit(target)
        _drain(local_receivers, "PredictionsQueue", "RunPredictionsFunction")
        _deliver_until_quiet(local_receivers, rounds=40)
        [parked] = delivery_queries().for_prediction("acme", prediction_id)
        failed_attempts = len(target.requests)
        target.answers = [200]  # the receiver is back

        moved = redrive(webhooks_dead_letters(), webhooks_queue(), delivery_store())
        _deliver_until_quiet(local_receivers)

    [delivered] = delivery_queries().for_prediction("acme", prediction_id)
    assert (parked.status.value, parked.attempts) == ("failed", 11)
    assert failed_attempts == 11
    assert moved == 1
    assert (delivered.status.value, delivered.attempts, delivered.last_status_code) == ("delivered", 12, 200)
    assert len({r.headers["webhook-id"] for r in target.requests}) == 1
    assert _queue_depth(local_receivers, "WebhooksDLQ") == 0


def test_redirects_are_not_followed(local_receivers: Stack) -> None:
    with receiver([302], extra_headers={"location": "http://169.254.169.254/latest/meta-data"}) as target:
        prediction_id = _submit(target)
        _drain(local_receivers, "PredictionsQueue", "RunPredictionsFunction")
        _drain(local_receivers, "WebhooksQueue", "DeliverWebhooksFunction")

    [delivery] = delivery_queries().for_prediction("acme", prediction_id)
    assert len(target.requests) == 1
    assert (delivery.status.value, delivery.last_status_code) == ("pending", 302)  # a failure, retried later


def test_an_unreachable_receiver_is_recorded_and_retried(local_receivers: Stack) -> None:
    with receiver() as target:
        url = target.url
    request = NewPrediction("echo", {}, webhook=url)  # the receiver is gone: connection refused
    prediction_id = prediction_service().create("acme", request, None).id
    prediction_service().cancel("acme", prediction_id)

    _drain(local_receivers, "WebhooksQueue", "DeliverWebhooksFunction")

    [delivery] = delivery_queries().for_prediction("acme", prediction_id)
    assert (delivery.status.value, delivery.attempts, delivery.last_status_code) == ("pending", 1, None)
    assert delivery.last_error is not None
    assert delivery.next_attempt_at is not None


def test_rotation_signs_with_both_secrets_during_the_grace_period(local_receivers: Stack) -> None:
    old = secret_service().current("acme").current
    new = secret_service().rotate("acme").current
    with receiver() as target:
        _submit(target, model="echo")
        _drain(local_receivers, "PredictionsQueue", "RunPredictionsFunction")
        _deliver_until_quiet(local_receivers)

    [request] = target.requests
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    assert target.verified(old) == target.verified(new)


def test_no_secret_or_raw_input_is_logged(local_receivers: Stack, captured_logs: CapturedLogs) -> None:
    secret = secret_service().current("acme").current
    with receiver([500, 200]) as target:
        _submit(target, (START, COMPLETED))
        _drain(local_receivers, "PredictionsQueue", "RunPredictionsFunction")
        _deliver_until_quiet(local_receivers)

    assert any(r["message"] == "webhook attempt" for r in captured_logs.records)
    assert secret not in captured_logs.text
    assert secret.removeprefix("whsec_") not in captured_logs.text
    assert "Lovely!" not in captured_logs.text
    assert all(r.headers["webhook-signature"] not in captured_logs.text for r in target.requests)


def _admin_headers() -> dict[str, str]:
    from shared.keys.models import Scope
    from shared.wiring import key_service

    _, secret = key_service().create("acme", "reader", [Scope.PREDICT])
    return {"authorization": f"Bearer {secret}"}


def test_a_failed_delivery_whose_parking_was_lost_is_parked_again(local_receivers: Stack) -> None:
    from shared.kernel.messages import DeliverWebhook
    from shared.webhooks.models import AttemptOutcome, DeliveryStatus
    from shared.webhooks.worker import process
    from shared.wiring import delivery_store, webhook_deliverer, webhooks_dead_letters, webhooks_queue

    with receiver() as target:
        prediction_id = _submit(target, model="echo")
        prediction_service().cancel("acme", prediction_id)
    [pending] = delivery_queries().for_prediction("acme", prediction_id)
    delivery_store().record_attempt(
        pending, AttemptOutcome(DeliveryStatus.FAILED, "2026-11-22T00:00:00.000Z", 500, None, None)
    )
    message = DeliverWebhook(tenant="acme", prediction_id=prediction_id, delivery_id=pending.id)

    process(message, "unused-receipt", webhook_deliverer(), webhooks_queue(), webhooks_dead_letters())

    parked = webhooks_dead_letters().receive(wait_seconds=0)
    assert [m for m, _ in parked] == [message]
    assert target.requests == []


@contextmanager
def hanging_receiver() -> Iterator[str]:
    """A receiver that accepts connections, reads the request and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            held.append(connection)  # kept open, never answered

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/hook"
    finally:
        stop.set()
        thread.join(timeout=5)
        for connection in held:
            connection.close()
        server.close()


def test_a_receiver_that_hangs_delays_only_its_delivery(
    local_receivers: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBHOOK_TIMEOUT_SECONDS", "0.5")
    reset()
    with hanging_receiver() as url:
        request = NewPrediction("echo", {"n": 1}, webhook=url, webhook_events_filter=(COMPLETED,))
        prediction_id = prediction_service().create("acme", request, "req-hang").id
        _drain(local_receivers, "PredictionsQueue", "RunPredictionsFunction")
        _drain(local_receivers, "WebhooksQueue", "DeliverWebhooksFunction")  # returns: the attempt timed out

    stored = prediction_store().get("acme", prediction_id)
    [delivery] = delivery_queries().for_prediction("acme", prediction_id)
    assert (stored.status.value, stored.output) == ("succeeded", {"n": 1})  # one terminal state, one output
    assert (delivery.status.value, delivery.attempts) == ("pending", 1)  # retried later, not lost
    assert delivery.last_error is not None
    assert _queue_depth(local_receivers, "WebhooksQueue") == 1
