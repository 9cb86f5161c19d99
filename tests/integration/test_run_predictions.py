"""The run_predictions handler on real SQS-shaped events, against moto resources from template.yaml."""

import json
import threading
from pathlib import Path
from typing import Any

import boto3
import pytest

from shared.adapters.clients import dynamodb_client
from shared.adapters.dynamodb.predictions import DynamoPredictionStore
from shared.predictions.models import PredictionStatus
from shared.predictions.service import NewPrediction
from shared.runtimes.echo import EchoRuntime
from shared.wiring import batch_store, prediction_service, prediction_store, reset
from tests.conftest import CapturedLogs, Credential
from tests.support.batch_queues import create as create_batch
from tests.support.batch_queues import deliver, jsonl, pump, validated_with_chunks_held
from tests.support.batch_queues import files as batch_files
from tests.support.faults import failing, failing_response
from tests.support.onnx_models import input_loop_model, loop_schemas
from tests.support.registry_flow import register, upload_file
from tools.iam_audit import AUDIT_DIR_VARIABLE, read_folder
from tools.lambda_runtime import LocalContext, invoke_function, load_handler
from tools.provision import Stack
from tools.sqs_events import lambda_event
from tools.template import load_template

WORKER = "RunPredictionsFunction"


def _receive(stack: Stack, count: int = 10) -> list[dict[str, Any]]:
    response = boto3.client("sqs").receive_message(
        QueueUrl=stack.refs["PredictionsQueue"],
        MaxNumberOfMessages=count,
        MessageAttributeNames=["All"],
        MessageSystemAttributeNames=["All"],
    )
    messages: list[dict[str, Any]] = [dict(m) for m in response.get("Messages", [])]
    return messages


def _event(stack: Stack, messages: list[dict[str, Any]]) -> dict[str, Any]:
    return lambda_event(messages, stack.arns["PredictionsQueue"], "us-east-1")


def _submit(model: str, payload: dict[str, Any], correlation_id: str = "req-e2e-1") -> str:
    return prediction_service().create("acme", NewPrediction(model, payload), correlation_id).id


def _stored_item(prediction_id: str) -> dict[str, Any]:
    key = {"PK": {"S": "TENANT#acme"}, "SK": {"S": f"PRED#{prediction_id}"}}
    item: dict[str, Any] = dynamodb_client().get_item(TableName=_table(), Key=key)["Item"]
    return item


def _table() -> str:
    import os

    return os.environ["TABLE_NAME"]


def test_a_queued_sentiment_prediction_succeeds(stack: Stack) -> None:
    prediction_id = _submit("sentiment", {"text": "What a wonderful, delightful day!"})

    result = invoke_function(WORKER, _event(stack, _receive(stack)))

    stored = prediction_store().get("acme", prediction_id)
    assert result == {"batchItemFailures": []}
    assert stored.status is PredictionStatus.SUCCEEDED
    assert stored.output is not None
    assert stored.output["label"] == "positive"


def test_duplicate_delivery_of_one_message_produces_one_result(stack: Stack) -> None:
    prediction_id = _submit("echo", {"n": 1})
    [message] = _receive(stack)

    first = invoke_function(WORKER, _event(stack, [message]))
    completed_at = prediction_store().get("acme", prediction_id).completed_at
    second = invoke_function(WORKER, _event(stack, [message, message]))

    stored = prediction_store().get("acme", prediction_id)
    assert first == second == {"batchItemFailures": []}
    assert stored.status is PredictionStatus.SUCCEEDED
    assert stored.output == {"n": 1}
    assert stored.completed_at == completed_at  # the finished result was not written again


def test_the_same_message_delivered_twice_at_once_finishes_the_prediction_once(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two containers get the same message: the second runs to the end while the first is inside the
    model (after its ``processing`` write). One terminal write, one output; both report success."""
    prediction_id = _submit("echo", {"n": 7})
    [message] = _receive(stack)
    terminal_writes: list[str] = []
    transition = DynamoPredictionStore.transition

    def counting(self: DynamoPredictionStore, prediction: Any, change: Any) -> Any:
        moved = transition(self, prediction, change)
        if moved.status not in (PredictionStatus.STARTING, PredictionStatus.PROCESSING):
            terminal_writes.append(moved.status.value)
        return moved

    overlapping: list[Any] = []
    predict = EchoRuntime.predict

    def with_second_delivery_meanwhile(self: EchoRuntime, inputs: Any, timeout: float | None = None) -> Any:
        if not overlapping:
            overlapping.append(None)
            assert prediction_store().get("acme", prediction_id).status is PredictionStatus.PROCESSING
            overlapping[0] = invoke_function(WORKER, _event(stack, [message]))
        return predict(self, inputs, timeout)

    monkeypatch.setattr(DynamoPredictionStore, "transition", counting)
    monkeypatch.setattr(EchoRuntime, "predict", with_second_delivery_meanwhile)
    first = invoke_function(WORKER, _event(stack, [message]))

    stored = prediction_store().get("acme", prediction_id)
    assert first == overlapping[0] == {"batchItemFailures": []}
    assert terminal_writes == ["succeeded"]
    assert stored.status is PredictionStatus.SUCCEEDED
    assert stored.output == {"n": 7}


def test_a_message_for_a_canceled_prediction_does_nothing(stack: Stack) -> None:
    prediction_id = _submit("echo", {"n": 2})
    canceled = prediction_service().cancel("acme", prediction_id)

    result = invoke_function(WORKER, _event(stack, _receive(stack)))

    stored = prediction_store().get("acme", prediction_id)
    assert result == {"batchItemFailures": []}
    assert stored == canceled
    assert "output" not in _stored_item(prediction_id)


def test_a_throttled_write_is_reported_and_succeeds_on_redelivery(stack: Stack) -> None:
    throttled_id = _submit("echo", {"n": "throttled"})
    healthy_id = _submit("echo", {"n": "healthy"})
    messages = _receive(stack)
    by_prediction = {json.loads(m["Body"])["prediction_id"]: m for m in messages}

    with failing(dynamodb_client(), "UpdateItem", times=1, mentioning=throttled_id) as injected:
        first = invoke_function(WORKER, _event(stack, [by_prediction[throttled_id], by_prediction[healthy_id]]))
    assert injected == [1]
    assert first == {"batchItemFailures": [{"itemIdentifier": by_prediction[throttled_id]["MessageId"]}]}
    assert prediction_store().get("acme", throttled_id).status is PredictionStatus.STARTING
    assert prediction_store().get("acme", healthy_id).status is PredictionStatus.SUCCEEDED

    redelivered = invoke_function(WORKER, _event(stack, [by_prediction[throttled_id]]))

    stored = prediction_store().get("acme", throttled_id)
    assert redelivered == {"batchItemFailures": []}
    assert stored.status is PredictionStatus.SUCCEEDED
    assert stored.output == {"n": "throttled"}


def test_a_throttled_result_write_leaves_it_processing_and_redelivery_finishes_it_once(stack: Stack) -> None:
    prediction_id = _submit("echo", {"n": 3})
    [message] = _receive(stack)
    client = dynamodb_client()
    updates = {"n": 0}

    def throttle_the_result_write(**_: Any) -> Any:
        updates["n"] += 1
        if updates["n"] == 2:  # 1st UpdateItem: -> processing; 2nd: the result
            return failing_response("ProvisionedThroughputExceededException")
        return None

    client.meta.events.register("before-call.dynamodb.UpdateItem", throttle_the_result_write, unique_id="t")
    try:
        first = invoke_function(WORKER, _event(stack, [message]))
    finally:
        client.meta.events.unregister("before-call.dynamodb.UpdateItem", unique_id="t")
    assert first == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}
    assert prediction_store().get("acme", prediction_id).status is PredictionStatus.PROCESSING

    second = invoke_function(WORKER, _event(stack, [message]))

    stored = prediction_store().get("acme", prediction_id)
    assert second == {"batchItemFailures": []}
    assert (stored.status, stored.output) == (PredictionStatus.SUCCEEDED, {"n": 3})


def test_a_model_error_fails_the_prediction_without_a_retry(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    prediction_id = _submit("sentiment", {"text": "boom"})

    def explode(self: object, item: object) -> object:
        raise RuntimeError("model internals")

    monkeypatch.setattr("shared.runtimes.sentiment.SentimentRuntime._score", explode)
    result = invoke_function(WORKER, _event(stack, _receive(stack)))

    stored = prediction_store().get("acme", prediction_id)
    assert result == {"batchItemFailures": []}
    assert stored.status is PredictionStatus.FAILED
    assert stored.error is not None
    assert stored.error.code == "model_error"


def test_a_malformed_message_is_reported_for_redelivery_and_the_dlq(stack: Stack) -> None:
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=stack.refs["PredictionsQueue"], MessageBody="{not json")
    [message] = _receive(stack)

    result = invoke_function(WORKER, _event(stack, [message]))

    assert result == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}


def test_the_correlation_id_reaches_the_worker_logs(stack: Stack, captured_logs: CapturedLogs) -> None:
    _submit("echo", {"n": 4}, correlation_id="req-correlate-me")

    invoke_function(WORKER, _event(stack, _receive(stack)))

    finished = [line for line in captured_logs.records if line.get("message") == "prediction finished"]
    assert [line["correlation_id"] for line in finished] == ["req-correlate-me"]


def _ten_echo_messages(stack: Stack) -> tuple[list[str], list[dict[str, Any]]]:
    ids = [_submit("echo", {"n": n}, correlation_id=f"req-{n}") for n in range(10)]
    messages = _receive(stack)
    assert len(messages) == 10
    return ids, messages


def test_the_status_writes_of_ten_messages_are_in_flight_at_once(stack: Stack) -> None:
    """Every UpdateItem waits at a barrier of ten before it is sent: sequential writes would break it."""
    ids, messages = _ten_echo_messages(stack)
    barrier = threading.Barrier(10, timeout=10)
    lock = threading.Lock()
    in_flight, most = [0], [0]

    def meet(**_: Any) -> None:
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        barrier.wait()
        with lock:
            in_flight[0] -= 1

    client = dynamodb_client()
    client.meta.events.register("before-call.dynamodb.UpdateItem", meet, unique_id="meet")
    try:
        result = invoke_function(WORKER, _event(stack, messages))
    finally:
        client.meta.events.unregister("before-call.dynamodb.UpdateItem", unique_id="meet")

    assert result == {"batchItemFailures": []}
    assert most == [10]
    assert [prediction_store().get("acme", i).output for i in ids] == [{"n": n} for n in range(10)]


def test_one_throttled_write_among_ten_messages_is_the_only_one_reported(stack: Stack) -> None:
    ids, messages = _ten_echo_messages(stack)
    throttled = ids[6]
    [throttled_message] = [m for m in messages if throttled in m["Body"]]

    with failing(dynamodb_client(), "UpdateItem", times=1, mentioning=throttled) as injected:
        result = invoke_function(WORKER, _event(stack, messages))

    assert injected == [1]
    assert result == {"batchItemFailures": [{"itemIdentifier": throttled_message["MessageId"]}]}
    statuses = {i: prediction_store().get("acme", i).status for i in ids}
    assert statuses == {i: PredictionStatus.STARTING if i == throttled else PredictionStatus.SUCCEEDED for i in ids}


def test_each_message_of_a_delivery_is_logged_with_its_own_correlation_id(
    stack: Stack, captured_logs: CapturedLogs
) -> None:
    ids, messages = _ten_echo_messages(stack)

    invoke_function(WORKER, _event(stack, messages))

    finished = [line for line in captured_logs.records if line.get("message") == "prediction finished"]
    assert sorted((line["prediction_id"], line["correlation_id"]) for line in finished) == [
        (i, f"req-{n}") for n, i in enumerate(ids)
    ]
    assert {line["function_name"] for line in finished} == {WORKER}


def test_the_worker_tasks_calls_are_made_as_the_workers_role(
    stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Signed on the pool's threads, they must still be the function's (the operator may do anything, so a
    task that escaped its invocation's context would not be refused: it would be audited as the operator)."""
    _, messages = _ten_echo_messages(stack)
    invoke_function(WORKER, _event(stack, []))  # its role is created and assumed on first use, by the operator
    monkeypatch.setenv(AUDIT_DIR_VARIABLE, str(tmp_path))  # every decision, allowed ones too

    result = invoke_function(WORKER, _event(stack, messages))
    monkeypatch.delenv(AUDIT_DIR_VARIABLE)

    decisions = {(d.principal, d.action, d.allowed) for d in read_folder(tmp_path)}
    assert result == {"batchItemFailures": []}
    assert {
        ("RunPredictionsFunction", "dynamodb:GetItem", True),
        ("RunPredictionsFunction", "dynamodb:UpdateItem", True),
    } <= decisions
    assert {principal for principal, _, _ in decisions} == {WORKER}


def _limits(monkeypatch: pytest.MonkeyPatch, **seconds: float) -> None:
    for name, value in seconds.items():
        monkeypatch.setenv(name, str(value))
    reset()


def _register_spinner(admin: Credential) -> None:
    """``spin``: y = x + max(x) in max(x) trips of a Loop (quick at registration, endless on 10^12)."""
    response = register(admin.secret, "spin", upload_file(admin.secret, input_loop_model()), loop_schemas())
    assert response["statusCode"] == 201, response


def test_a_queued_prediction_past_the_time_limit_fails_with_timeout(
    stack: Stack, admin: Credential, monkeypatch: pytest.MonkeyPatch
) -> None:
    _limits(monkeypatch, MODEL_WORKER_SECONDS=0.5)
    _register_spinner(admin)
    prediction_id = _submit("spin", {"x": [1e12]})

    result = invoke_function(WORKER, _event(stack, _receive(stack)))

    stored = prediction_store().get("acme", prediction_id)
    assert result == {"batchItemFailures": []}  # consumed: a timeout is the prediction's outcome, not retried
    assert stored.status is PredictionStatus.FAILED
    assert stored.error is not None
    assert stored.error.code == "timeout"
    assert stored.error.message == "The model did not finish within its time limit of 0.5 s."


def test_work_without_time_left_to_start_goes_back_to_the_queue_at_once_untouched(
    stack: Stack, admin: Credential, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 4 s invocation, calls of 1 s with 2 s of reserve: after the slow model's call only 3 s minus its
    work remain, too little for another call, so the other tenant-model's record is returned unstarted."""
    _limits(monkeypatch, MODEL_WORKER_SECONDS=1, MODEL_WORKER_RESERVE_SECONDS=2)
    _register_spinner(admin)
    slow_id = _submit("spin", {"x": [1e12]})
    quick_id = _submit("echo", {"n": 1})
    messages = sorted(_receive(stack), key=lambda message: quick_id in message["Body"])  # the slow one first
    quick_message = messages[1]

    result = load_handler(load_template().function(WORKER))(_event(stack, messages), LocalContext(WORKER, 4))
    returned = _receive(stack)  # visible again now, not after the queue's 360 s visibility timeout

    assert result == {"batchItemFailures": [{"itemIdentifier": quick_message["MessageId"]}]}
    slow = prediction_store().get("acme", slow_id)
    assert (slow.status, slow.error.code if slow.error else None) == (PredictionStatus.FAILED, "timeout")
    assert prediction_store().get("acme", quick_id).status is PredictionStatus.STARTING  # never started
    assert [message["MessageId"] for message in returned] == [quick_message["MessageId"]]
    assert invoke_function(WORKER, _event(stack, returned)) == {"batchItemFailures": []}
    assert prediction_store().get("acme", quick_id).status is PredictionStatus.SUCCEEDED


def test_a_slow_prediction_fails_alone_and_the_one_batched_with_it_succeeds(
    stack: Stack, admin: Credential, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both in one SQS delivery, one runtime call: the limit stops it with both unfinished, so neither is
    failed; their messages come back at once and each runs alone: only the slow one times out."""
    _limits(monkeypatch, MODEL_WORKER_SECONDS=0.5)
    _register_spinner(admin)
    slow_id = _submit("spin", {"x": [1e12]})
    fast_id = _submit("spin", {"x": [2]})
    messages = _receive(stack)
    assert len(messages) == 2

    first = invoke_function(WORKER, _event(stack, messages))
    between = [prediction_store().get("acme", i).status for i in (slow_id, fast_id)]
    returned = _receive(stack)  # visible again now, not after the queue's 360 s visibility timeout
    second = invoke_function(WORKER, _event(stack, returned))

    assert sorted(f["itemIdentifier"] for f in first["batchItemFailures"]) == sorted(m["MessageId"] for m in messages)
    assert between == [PredictionStatus.PROCESSING] * 2
    assert sorted(m["MessageId"] for m in returned) == sorted(m["MessageId"] for m in messages)
    assert second == {"batchItemFailures": []}
    slow, fast = (prediction_store().get("acme", i) for i in (slow_id, fast_id))
    assert (slow.status, slow.error.code if slow.error else None) == (PredictionStatus.FAILED, "timeout")
    assert (fast.status, fast.output, fast.error) == (PredictionStatus.SUCCEEDED, {"y": [4.0]}, None)
    assert _receive(stack) == []


def test_a_batch_line_past_the_time_limit_fails_with_timeout(
    stack: Stack, admin: Credential, monkeypatch: pytest.MonkeyPatch
) -> None:
    _limits(monkeypatch, MODEL_WORKER_SECONDS=0.5)
    _register_spinner(admin)
    batch_id = create_batch(jsonl([{"custom_id": "slow", "input": {"x": [1e12]}}]), model="spin")

    counts = list(pump(stack, batch_id))[-1]

    outputs, errors = batch_files(batch_id)
    assert counts == (1, 0, 1)
    assert outputs == []
    assert errors == [
        {
            "custom_id": "slow",
            "error": {"code": "timeout", "message": "The model did not finish within its time limit of 0.5 s."},
        }
    ]


SLOW_CHUNK = [
    {"custom_id": "fast1", "input": {"x": [2]}},
    {"custom_id": "slow", "input": {"x": [1e12]}},
    {"custom_id": "fast2", "input": {"x": [3]}},
]


def _slow_line_error(seconds: str) -> dict[str, Any]:
    message = f"The model did not finish within its time limit of {seconds} s."
    return {"custom_id": "slow", "error": {"code": "timeout", "message": message}}


def test_a_slow_batch_line_fails_alone_and_the_lines_of_its_chunk_succeed(
    stack: Stack, admin: Credential, monkeypatch: pytest.MonkeyPatch
) -> None:
    _limits(monkeypatch, MODEL_WORKER_SECONDS=0.5)
    _register_spinner(admin)
    batch_id = create_batch(jsonl(SLOW_CHUNK), model="spin")

    counts = list(pump(stack, batch_id))[-1]

    outputs, errors = batch_files(batch_id)
    assert counts == (3, 2, 1)
    assert outputs == [{"custom_id": "fast1", "output": {"y": [4.0]}}, {"custom_id": "fast2", "output": {"y": [6.0]}}]
    assert errors == [_slow_line_error("0.5")]


def test_a_chunk_without_time_to_run_its_lines_alone_comes_back_and_finishes_them_next_delivery(
    stack: Stack, admin: Credential, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 3 s invocation, calls of 1 s with 1.5 s of reserve: after the shared call stopped at 1 s, no whole
    call fits, so the chunk saves what it settled and its message comes back at once; the next delivery
    runs the lines alone and counts the chunk once."""
    _limits(monkeypatch, MODEL_WORKER_SECONDS=1, MODEL_WORKER_RESERVE_SECONDS=1.5)
    _register_spinner(admin)
    batch_id = create_batch(jsonl(SLOW_CHUNK), model="spin")
    [chunk] = validated_with_chunks_held(stack, batch_id)

    first = load_handler(load_template().function(WORKER))(_event(stack, [chunk]), LocalContext(WORKER, 3))
    between = batch_store().get("acme", batch_id)
    returned = _receive(stack)  # visible again at once
    failed = deliver(stack, "PredictionsQueue", returned)
    counts = list(pump(stack, batch_id))[-1]  # the finalize step

    assert first == {"batchItemFailures": [{"itemIdentifier": chunk["MessageId"]}]}
    assert (between.chunks_done, between.counts.completed, between.counts.failed) == (0, 0, 0)
    assert [m["MessageId"] for m in returned] == [chunk["MessageId"]]
    assert failed == 0
    assert counts == (3, 2, 1)
    outputs, errors = batch_files(batch_id)
    assert [line["custom_id"] for line in outputs] == ["fast1", "fast2"]
    assert errors == [_slow_line_error("1")]
