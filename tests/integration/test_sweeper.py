"""The sweeper on moto: stuck predictions are re-queued a bounded number of times, then failed with
``timeout``; a worker that died mid-run is finished exactly once; finished predictions are never touched."""

from datetime import timedelta
from typing import Any

import boto3
import pytest

from shared.clock import to_rfc3339, utc_now
from shared.predictions.models import Overdue, PredictionStatus
from shared.predictions.service import NewPrediction
from shared.predictions.sweeper import Sweeper, SweepReport
from shared.services import prediction_service, prediction_store, sweeper, transitions
from shared.store.predictions import DynamoPredictionStore
from tools.lambda_runtime import invoke_function
from tools.provision import Stack
from tools.sqs_events import lambda_event

LATER = timedelta(minutes=16)  # past the 15-minute deadline


@pytest.fixture
def terminal_writes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every transition to a terminal status that was actually written: (prediction id, status)."""
    written: list[tuple[str, str]] = []
    original = DynamoPredictionStore.transition

    def spy(self: DynamoPredictionStore, tenant: str, prediction_id: str, transition: Any) -> Any:
        moved = original(self, tenant, prediction_id, transition)
        if moved.status not in (PredictionStatus.STARTING, PredictionStatus.PROCESSING):
            written.append((prediction_id, moved.status.value))
        return moved

    monkeypatch.setattr(DynamoPredictionStore, "transition", spy)
    return written


def _submit(payload: dict[str, Any]) -> str:
    return prediction_service().create("acme", NewPrediction("echo", payload), "req-sweep").id


def _drain(stack: Stack) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    messages = sqs.receive_message(QueueUrl=stack.refs["PredictionsQueue"], MaxNumberOfMessages=10).get("Messages", [])
    for message in messages:
        sqs.delete_message(QueueUrl=stack.refs["PredictionsQueue"], ReceiptHandle=message["ReceiptHandle"])
    return [dict(m) for m in messages]


def _run(stack: Stack, messages: list[dict[str, Any]]) -> Any:
    return invoke_function(
        "RunPredictionsFunction", lambda_event(messages, stack.arns["PredictionsQueue"], "us-east-1")
    )


def test_a_worker_that_died_after_processing_is_finished_once_after_the_sweep(
    stack: Stack, terminal_writes: list[tuple[str, str]]
) -> None:
    prediction_id = _submit({"n": 1})
    _drain(stack)  # the worker took the message ...
    transitions().move(prediction_store().get("acme", prediction_id), PredictionStatus.PROCESSING)  # ... and died

    early = sweeper().sweep(utc_now())
    report = sweeper().sweep(utc_now() + LATER)
    requeued = _drain(stack)
    assert _run(stack, requeued) == {"batchItemFailures": []}
    after = sweeper().sweep(utc_now() + 2 * LATER)

    assert early == SweepReport()  # not overdue yet
    assert report == SweepReport(requeued=1)
    assert len(requeued) == 1
    stored = prediction_store().get("acme", prediction_id)
    assert (stored.status, stored.output) == (PredictionStatus.SUCCEEDED, {"n": 1})
    assert after == SweepReport()  # finished: out of the index
    assert terminal_writes == [(prediction_id, "succeeded")]


def test_a_prediction_that_never_finishes_times_out_after_the_bounded_requeues(
    stack: Stack, terminal_writes: list[tuple[str, str]]
) -> None:
    prediction_id = _submit({"n": 2})
    _drain(stack)  # every message is lost
    now = utc_now()

    reports = []
    for sweep in range(1, 5):
        reports.append(sweeper().sweep(now + sweep * LATER))
        _drain(stack)
    late_message = [
        {"MessageId": "m", "ReceiptHandle": "r", "Body": f'{{"tenant": "acme", "prediction_id": "{prediction_id}"}}'}
    ]
    late = _run(stack, late_message)

    assert reports == [SweepReport(requeued=1), SweepReport(requeued=1), SweepReport(timed_out=1), SweepReport()]
    stored = prediction_store().get("acme", prediction_id)
    assert stored.status is PredictionStatus.FAILED
    assert stored.error is not None
    assert stored.error.code == "timeout"
    assert late == {"batchItemFailures": []}  # a late message finds it finished and changes nothing
    assert terminal_writes == [(prediction_id, "failed")]


class StaleIndex:
    """What the index said before the prediction finished (GSIs are eventually consistent)."""

    def __init__(self, found: list[Overdue]) -> None:
        self.found = found
        self.postponed: list[Overdue] = []

    def overdue(self, now: str, limit: int) -> list[Overdue]:
        return self.found

    def postpone(self, overdue: Overdue, next_deadline: str) -> bool:
        self.postponed.append(overdue)
        return True


def test_a_finished_prediction_is_never_touched(stack: Stack, terminal_writes: list[tuple[str, str]]) -> None:
    prediction_id = _submit({"n": 3})
    _run(stack, _drain(stack))
    finished = prediction_store().get("acme", prediction_id)
    stale = StaleIndex([Overdue("acme", prediction_id, "2020-01-01T00:00:00.000Z", sweeps=5)])
    queue = prediction_service()._queue

    report = Sweeper(prediction_store(), stale, transitions(), queue, LATER, 2).sweep(utc_now() + LATER)

    assert report == SweepReport(skipped=1)
    assert prediction_store().get("acme", prediction_id) == finished
    assert stale.postponed == []
    assert _drain(stack) == []
    assert terminal_writes == [(prediction_id, "succeeded")]


def test_two_sweepers_at_once_requeue_once(stack: Stack) -> None:
    prediction_id = _submit({"n": 4})
    _drain(stack)
    store = prediction_store()
    [found] = store.overdue(to_rfc3339(utc_now() + LATER), 10)

    first = store.postpone(found, "2099-01-01T00:00:00.000Z")
    second = store.postpone(found, "2099-01-01T00:00:00.000Z")

    assert (found.prediction_id, first, second) == (prediction_id, True, False)
