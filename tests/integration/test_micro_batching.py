"""run_predictions micro-batches: one runtime call per model version in a delivery, identical results.

The same predictions are run twice: all in one SQS batch of ten, and one record per invocation. Every
output (and every failure) must be the same, and the batched run must have called each model once.
"""

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import boto3
import pytest

from shared.runtimes.base import RuntimeResult
from shared.runtimes.onnx import OnnxRuntime
from shared.runtimes.sentiment import SentimentRuntime
from shared.wiring import prediction_store
from tests.conftest import Credential
from tests.support.events import bearer, response_json
from tests.support.gateway import call
from tests.support.onnx_models import linear_model
from tests.support.registry_flow import register, upload_file
from tools.lambda_runtime import invoke_function
from tools.provision import Stack
from tools.sqs_events import lambda_event

PERMISSIVE = ({"type": "object"}, {"type": "object"})  # lets a wrong-shaped input reach the model
INPUTS: list[tuple[str, dict[str, Any]]] = [
    ("iris", {"features": [5.1, 3.5, 1.4, 0.2]}),
    ("loose", {"x": [1.0, 2.0, 3.0]}),
    ("sentiment", {"text": "I love it"}),
    ("iris", {"features": [6.7, 3.0, 5.2, 2.3]}),
    ("loose", {"x": [1.0, 2.0]}),  # wrong shape: fails alone
    ("echo", {"n": 1}),
    ("iris", {"features": [5.9, 3.0, 4.2, 1.5]}),
    ("loose", {"x": [0.5, 0.5, 0.5]}),
    ("sentiment", {"text": "This is terrible"}),
    ("iris:1", {"features": [4.9, 3.0, 1.4, 0.2]}),
]


@pytest.fixture
def model_calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    calls: Counter[str] = Counter()
    for runtime_class, label in ((OnnxRuntime, "onnx"), (SentimentRuntime, "sentiment")):
        original = runtime_class.predict

        def counting(
            self: Any,
            inputs: Sequence[Mapping[str, Any]],
            timeout: float | None = None,
            *,
            _original: Any = original,
            _label: str = label,
        ) -> list[RuntimeResult]:
            calls[_label] += 1
            result: list[RuntimeResult] = _original(self, inputs, timeout)
            return result

        monkeypatch.setattr(runtime_class, "predict", counting)
    return calls


def _submit(secret: str) -> list[str]:
    ids = []
    for model, payload in INPUTS:
        response = call("POST", "/v1/predictions", body={"model": model, "input": payload}, headers=bearer(secret))
        assert response["statusCode"] == 201, response_json(response)
        ids.append(response_json(response)["id"])
    return ids


def _receive_all(stack: Stack, count: int) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    messages: list[dict[str, Any]] = []
    while len(messages) < count:
        batch = sqs.receive_message(
            QueueUrl=stack.refs["PredictionsQueue"], MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", [])
        assert batch, "the queue ran dry"
        messages += [dict(m) for m in batch]
    return messages


def _invoke(stack: Stack, messages: list[dict[str, Any]]) -> Any:
    return invoke_function(
        "RunPredictionsFunction", lambda_event(messages, stack.arns["PredictionsQueue"], "us-east-1")
    )


def _results(ids: list[str]) -> list[tuple[str, Any, Any]]:
    found = [prediction_store().get("acme", i) for i in ids]
    return [(p.status.value, p.output, p.error.code if p.error else None) for p in found]


def test_micro_batched_and_one_by_one_runs_give_identical_results(
    stack: Stack, admin: Credential, model_calls: Counter[str]
) -> None:
    assert (
        register(
            admin.secret, "loose", upload_file(admin.secret, linear_model([[1.0], [2.0], [3.0]], [0.5])), PERMISSIVE
        )["statusCode"]
        == 201
    )
    model_calls.clear()  # registration runs the model once (the inspector's trial run)
    batched_ids = _submit(admin.secret)
    single_ids = _submit(admin.secret)

    batched = _invoke(stack, _receive_all(stack, 10)[:10])
    batched_calls = dict(model_calls)
    model_calls.clear()
    for message in _receive_all(stack, 10):
        assert _invoke(stack, [message]) == {"batchItemFailures": []}

    assert batched == {"batchItemFailures": []}
    assert _results(batched_ids) == _results(single_ids)
    statuses = [status for status, _, _ in _results(batched_ids)]
    assert statuses == ["succeeded"] * 4 + ["failed"] + ["succeeded"] * 5
    assert _results(batched_ids)[4][2] == "invalid_input"
    # One runtime call per model version in the batch: iris (4 inputs), loose (3) and sentiment (2).
    assert batched_calls == {"onnx": 2, "sentiment": 1}
    assert model_calls["onnx"] >= 7
    assert model_calls["sentiment"] == 2
