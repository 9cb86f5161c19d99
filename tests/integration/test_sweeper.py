"""The sweeper on moto: stuck predictions are re-queued a bounded number of times, then failed with
``timeout``; a worker that died mid-run is finished exactly once; finished predictions are never touched.
Stuck batches are resumed (what they wait for is sent again) a bounded number of times, then what is left
of them fails with ``timeout`` and they finish, every line in exactly one of their two files."""

import json
from datetime import timedelta
from typing import Any

import boto3
import pytest

from shared.adapters.dynamodb import batches as batches_store_module
from shared.adapters.dynamodb.predictions import DynamoPredictionStore
from shared.batches.models import BatchStatus
from shared.batches.runner import ChunkRunner
from shared.batches.sweeper import BatchSweepReport
from shared.kernel.clock import to_rfc3339, utc_now
from shared.predictions.models import Overdue, PredictionStatus
from shared.predictions.service import NewPrediction
from shared.predictions.sweeper import Sweeper, SweepReport
from shared.wiring import (
    batch_service,
    batch_store,
    batch_sweeper,
    delivery_store,
    prediction_service,
    prediction_store,
    sweeper,
    transitions,
)
from tests.support.batch_queues import (
    TENANT,
    create,
    deliver,
    drop,
    files,
    jsonl,
    mixed_lines,
    pump,
    receive,
    validated_with_chunks_held,
)
from tools.lambda_runtime import invoke_function
from tools.provision import Stack
from tools.sqs_events import lambda_event

LATER = timedelta(minutes=16)  # past the 15-minute deadline


@pytest.fixture
def terminal_writes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every transition to a terminal status that was actually written: (prediction id, status)."""
    written: list[tuple[str, str]] = []
    original = DynamoPredictionStore.transition

    def spy(self: DynamoPredictionStore, prediction: Any, transition: Any) -> Any:
        moved = original(self, prediction, transition)
        if moved.status not in (PredictionStatus.STARTING, PredictionStatus.PROCESSING):
            written.append((prediction.id, moved.status.value))
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


# ---------------------------------------------------------------- batches


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """20-line chunks and 4 KiB validation steps: a few dozen lines make several of each."""
    monkeypatch.setenv("BATCH_STEP_BYTES", "4096")
    monkeypatch.setenv("BATCH_CHUNK_LINES", "20")


@pytest.fixture
def second_chunk_always_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """Running lines 21-40 raises on every attempt (as a schema that crashes its evaluator did)."""
    original = ChunkRunner._predict

    def failing(self: ChunkRunner, batch: Any, lines: list[Any], timeout: float | None) -> Any:
        if lines and lines[0].number == 21:
            raise RuntimeError("this chunk fails every time")
        return original(self, batch, lines, timeout)

    monkeypatch.setattr(ChunkRunner, "_predict", failing)


def _chunk_indices(messages: list[dict[str, Any]]) -> list[int]:
    return sorted(json.loads(m["Body"])["chunk"] for m in messages)


def test_a_batch_whose_chunk_fails_every_time_is_resumed_twice_then_finished_with_timeouts(
    stack: Stack, small_chunks: None, second_chunk_always_fails: None
) -> None:
    lines = mixed_lines(60)  # three chunks
    batch_id = create(jsonl(lines), webhook="https://hooks.example.com/batches")
    list(pump(stack, batch_id, park_failures=True))  # chunk 1 fails until its message reaches the DLQ
    stuck = batch_store().get(TENANT, batch_id)
    now = utc_now()

    reports, resent = [], []
    for sweep in range(1, 4):
        reports.append(batch_sweeper().sweep(now + sweep * LATER))
        deliver(stack, "BatchesQueue", receive(stack, "BatchesQueue"))
        chunks = receive(stack, "PredictionsQueue")
        resent.append(_chunk_indices(chunks))
        deliver(stack, "PredictionsQueue", chunks, park_failures=True)
        deliver(stack, "BatchesQueue", receive(stack, "BatchesQueue"))  # the finalize step, once finished
    after = batch_sweeper().sweep(now + 5 * LATER)

    assert (stuck.status, stuck.chunks_done, stuck.chunks_total) == (BatchStatus.IN_PROGRESS, 2, 3)
    assert reports == [BatchSweepReport(resumed=1), BatchSweepReport(resumed=1), BatchSweepReport(timed_out=1)]
    assert resent == [[1], [1], []]  # only the missing chunk, and nothing once it is given up
    batch = batch_store().get(TENANT, batch_id)
    assert batch.status is BatchStatus.COMPLETED
    assert (batch.counts.total, batch.counts.completed, batch.counts.failed) == (60, 36, 24)
    assert batch.timed_out_chunks == frozenset({1})
    outputs, errors = files(batch_id)
    assert sorted(row["custom_id"] for row in outputs + errors) == sorted(line["custom_id"] for line in lines)
    timed_out = [row for row in errors if row["error"]["code"] == "timeout"]
    assert [row["custom_id"] for row in timed_out] == [f"row-{n}" for n in range(21, 41)]
    assert [d.event.value for d in delivery_store().list_for_prediction(TENANT, batch_id)] == ["batch.completed"]
    assert after == BatchSweepReport()  # finished: out of the index


def test_a_late_run_of_a_timed_out_chunk_changes_nothing(
    stack: Stack, small_chunks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch_id = create(jsonl(mixed_lines(60)))
    chunks = validated_with_chunks_held(stack, batch_id)
    deliver(stack, "PredictionsQueue", chunks[:2])  # chunk 2's message is lost
    now = utc_now()
    for sweep in range(1, 4):
        batch_sweeper().sweep(now + sweep * LATER)
        drop(stack, "PredictionsQueue")  # the re-sent chunk is lost too
        deliver(stack, "BatchesQueue", receive(stack, "BatchesQueue"))
    finished = batch_store().get(TENANT, batch_id)

    deliver(stack, "PredictionsQueue", chunks[2:], delete=False)  # the original message, very late

    assert finished.status is BatchStatus.COMPLETED
    assert finished.timed_out_chunks == frozenset({2})
    assert batch_store().get(TENANT, batch_id) == finished


def test_a_batch_whose_chunk_messages_were_lost_is_resumed_and_completes_exactly(
    stack: Stack, small_chunks: None
) -> None:
    lines = mixed_lines(60)
    batch_id = create(jsonl(lines))
    chunks = validated_with_chunks_held(stack, batch_id)
    deliver(stack, "PredictionsQueue", chunks[:1])  # chunk 0 ran; chunk 1 still runs; chunk 2's message is lost

    report = batch_sweeper().sweep(utc_now() + LATER)
    deliver(stack, "BatchesQueue", receive(stack, "BatchesQueue"))
    resent = receive(stack, "PredictionsQueue", hide_seconds=300)
    deliver(stack, "PredictionsQueue", chunks[1:2])  # the slow run of chunk 1 ends ...
    deliver(stack, "PredictionsQueue", resent)  # ... and its copy runs again: counted once
    list(pump(stack, batch_id))

    assert report == BatchSweepReport(resumed=1)
    assert _chunk_indices(resent) == [1, 2]
    batch = batch_store().get(TENANT, batch_id)
    assert batch.status is BatchStatus.COMPLETED
    assert (batch.counts.total, batch.counts.completed, batch.counts.failed) == (60, 54, 6)
    outputs, errors = files(batch_id)
    ids = [row["custom_id"] for row in outputs + errors]
    assert sorted(ids) == sorted(line["custom_id"] for line in lines)  # each exactly once


def test_progress_moves_a_batchs_deadline_and_clears_its_sweeps(
    stack: Stack, small_chunks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch_id = create(jsonl(mixed_lines(60)))
    chunks = validated_with_chunks_held(stack, batch_id)
    now = utc_now()
    resumed = batch_sweeper().sweep(now + LATER)
    drop(stack, "BatchesQueue")

    monkeypatch.setattr(batches_store_module, "utc_now", lambda: now + 2 * LATER)  # a chunk ends half an hour on
    deliver(stack, "PredictionsQueue", chunks[:1])
    quiet = batch_sweeper().sweep(now + 2 * LATER + timedelta(minutes=14))
    [found] = batch_store().overdue(to_rfc3339(now + 3 * LATER), 10)

    assert resumed == BatchSweepReport(resumed=1)
    assert quiet == BatchSweepReport()  # it made progress: not stuck
    assert (found.batch_id, found.sweeps) == (batch_id, 0)


def test_a_batch_whose_validation_step_was_lost_is_resumed_where_it_stopped(stack: Stack, small_chunks: None) -> None:
    batch_id = create(jsonl(mixed_lines(150)))  # several 4 KiB validation steps
    deliver(stack, "BatchesQueue", receive(stack, "BatchesQueue"))  # step one ...
    [lost] = drop(stack, "BatchesQueue")  # ... and its continuation is lost

    report = batch_sweeper().sweep(utc_now() + LATER)
    deliver(stack, "BatchesQueue", receive(stack, "BatchesQueue"))  # the resume step ...
    [step] = receive(stack, "BatchesQueue")  # ... queues the lost one again
    list(pump(stack, batch_id))

    assert report == BatchSweepReport(resumed=1)
    assert json.loads(step["Body"]) == json.loads(lost["Body"])
    batch = batch_store().get(TENANT, batch_id)
    assert (batch.status, batch.counts.total, batch.counts.completed + batch.counts.failed) == (
        BatchStatus.COMPLETED,
        150,
        150,
    )


def test_a_batch_that_never_gets_validated_fails_with_timeout(stack: Stack, small_chunks: None) -> None:
    batch_id = create(jsonl(mixed_lines(10)))
    now = utc_now()

    reports = []
    for sweep in range(1, 4):
        drop(stack, "BatchesQueue")  # every validation step is lost
        reports.append(batch_sweeper().sweep(now + sweep * LATER))
    deliver(stack, "BatchesQueue", [m for m in receive(stack, "BatchesQueue") if '"expire"' in m["Body"]])

    assert reports == [BatchSweepReport(resumed=1), BatchSweepReport(resumed=1), BatchSweepReport(timed_out=1)]
    batch = batch_store().get(TENANT, batch_id)
    assert batch.status is BatchStatus.FAILED
    assert [(p.line, p.code) for p in batch.errors] == [(0, "timeout")]


def test_a_canceling_batch_whose_chunks_were_lost_ends_canceled_with_every_line_accounted(
    stack: Stack, small_chunks: None
) -> None:
    lines = mixed_lines(60)
    batch_id = create(jsonl(lines))
    chunks = validated_with_chunks_held(stack, batch_id)
    deliver(stack, "PredictionsQueue", chunks[:1])
    batch_service().cancel(TENANT, batch_id)
    drop(stack, "BatchesQueue")  # the cancel's finalize step finds chunks still to count; the chunks are lost
    now = utc_now()

    for sweep in range(1, 4):
        batch_sweeper().sweep(now + sweep * LATER)
        drop(stack, "PredictionsQueue")
        deliver(stack, "BatchesQueue", receive(stack, "BatchesQueue"))

    batch = batch_store().get(TENANT, batch_id)
    assert batch.status is BatchStatus.CANCELED
    assert (batch.counts.total, batch.counts.completed, batch.counts.failed) == (60, 18, 42)
    outputs, errors = files(batch_id)
    assert sorted(row["custom_id"] for row in outputs + errors) == sorted(line["custom_id"] for line in lines)
    assert {row["error"]["code"] for row in errors[2:]} == {"canceled"}


def test_two_batch_sweepers_at_once_act_once_and_a_finished_batch_is_never_found(
    stack: Stack, small_chunks: None
) -> None:
    finished = create(jsonl(mixed_lines(5)))
    list(pump(stack, finished))
    running = create(jsonl(mixed_lines(5)))
    store = batch_store()

    found = store.overdue(to_rfc3339(utc_now() + LATER), 10)
    first = store.postpone(found[0], "2099-01-01T00:00:00.000Z")
    second = store.postpone(found[0], "2099-01-01T00:00:00.000Z")

    assert [f.batch_id for f in found] == [running]
    assert (first, second) == (True, False)
    assert prediction_store().overdue(to_rfc3339(utc_now() + LATER), 10) == []  # predictions never see batches
