"""The worker overlaps the round trips of one delivery: proved by calls that wait for each other, not by time.

A store whose calls meet at a barrier of ten: if the worker made them one after the other, the first
would wait alone until the barrier's timeout and break it, and the predictions would not succeed.
"""

import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest

from shared.kernel.errors import TransientError
from shared.kernel.observability import append_log_keys, correlation_id, logger, set_correlation_id
from shared.kernel.tasks import TaskPool
from shared.predictions.models import Prediction, PredictionStatus, Transition
from shared.predictions.runner import Job, PredictionRunner, RunOutcome
from shared.predictions.transitions import Transitions
from shared.registry.models import ModelVersion
from shared.registry.service import ModelRegistry
from shared.runtimes.base import ModelRuntime, RuntimeResult
from shared.runtimes.echo import EchoRuntime
from tests.conftest import CapturedLogs
from tests.support.fakes import InMemoryModelStore, InMemoryPredictionStore, InMemoryPublisher
from tests.support.resources import a_prediction

TEN = 10
WAIT = 5.0  # seconds a call waits for the others before the barrier breaks (only when they do not come)


class MeetingStore(InMemoryPredictionStore):
    """Each read, and each write to a status, waits until ``parties`` of its kind are in flight at once."""

    def __init__(self, parties: int) -> None:
        super().__init__()
        self.barriers: dict[str, threading.Barrier] = {}
        self.parties = parties
        self.most_in_flight: dict[str, int] = {}
        self._in_flight: dict[str, int] = {}
        self._count = threading.Lock()
        self.meeting = False

    def get(self, tenant: str, prediction_id: str) -> Prediction:
        with self._met("get"):
            return super().get(tenant, prediction_id)

    def transition(self, prediction: Prediction, transition: Transition) -> Prediction:
        with self._met(transition.status.value):
            return super().transition(prediction, transition)

    def _met(self, kind: str) -> Any:
        store = self

        class Meeting:
            def __enter__(self) -> None:
                if not store.meeting:
                    return
                with store._count:
                    store._in_flight[kind] = store._in_flight.get(kind, 0) + 1
                    most = store.most_in_flight.get(kind, 0)
                    store.most_in_flight[kind] = max(most, store._in_flight[kind])
                    barrier = store.barriers.setdefault(kind, threading.Barrier(store.parties, timeout=WAIT))
                barrier.wait()

            def __exit__(self, *_: object) -> None:
                if store.meeting:
                    with store._count:
                        store._in_flight[kind] -= 1

        return Meeting()


def _runner(store: InMemoryPredictionStore, runtime: ModelRuntime | None = None) -> PredictionRunner:
    def load(version: ModelVersion) -> ModelRuntime:
        return runtime or EchoRuntime()

    registry = ModelRegistry(InMemoryModelStore())
    return PredictionRunner(store, Transitions(store, InMemoryPublisher()), registry, load, TaskPool(TEN))


def _queued(store: InMemoryPredictionStore, count: int) -> list[Job]:
    jobs = []
    for index in range(count):
        prediction_id = f"pred_01JD5YB4W3ZV0B4S8FZ7Q6N9{index:02d}"
        store.create(a_prediction(id=prediction_id, input={"n": index}))
        jobs.append(Job("acme", prediction_id, f"req-{index}"))
    return jobs


def test_the_reads_the_processing_writes_and_the_result_writes_of_ten_messages_are_each_made_at_once() -> None:
    store = MeetingStore(parties=TEN)
    jobs = _queued(store, TEN)
    store.meeting = True

    results = _runner(store).run_many(jobs)
    store.meeting = False

    assert results == [RunOutcome.SUCCEEDED] * TEN
    assert store.most_in_flight == {"get": TEN, "processing": TEN, "succeeded": TEN}
    assert [store.get("acme", job.prediction_id).output for job in jobs] == [{"n": n} for n in range(TEN)]


def test_each_tasks_lines_carry_its_own_correlation_id_and_the_invocations_keys(captured_logs: CapturedLogs) -> None:
    store = InMemoryPredictionStore()
    jobs = _queued(store, TEN)
    set_correlation_id("req-invocation")
    append_log_keys(function_name="RunPredictionsFunction")

    _runner(store).run_many(jobs)

    finished = [line for line in captured_logs.records if line.get("message") == "prediction finished"]
    assert sorted((line["prediction_id"], line["correlation_id"]) for line in finished) == [
        (job.prediction_id, job.correlation_id) for job in jobs
    ]
    assert {line["function_name"] for line in finished} == {"RunPredictionsFunction"}
    assert logger.thread_safe_get_current_keys()["function_name"] == "RunPredictionsFunction"


class ThrowingStore(InMemoryPredictionStore):
    """Throttles the result write of one prediction."""

    def __init__(self, throttled: str) -> None:
        super().__init__()
        self.throttled = throttled

    def transition(self, prediction: Prediction, transition: Transition) -> Prediction:
        if prediction.id == self.throttled and transition.status is PredictionStatus.SUCCEEDED:
            raise TransientError("throttled")
        return super().transition(prediction, transition)


def test_one_failing_write_among_ten_fails_only_its_own_job() -> None:
    store = ThrowingStore("pred_01JD5YB4W3ZV0B4S8FZ7Q6N904")
    jobs = _queued(store, TEN)

    results = _runner(store).run_many(jobs)

    assert [type(r).__name__ if isinstance(r, Exception) else r for r in results] == [
        *[RunOutcome.SUCCEEDED] * 4,
        "TransientError",
        *[RunOutcome.SUCCEEDED] * 5,
    ]
    statuses = [store.get("acme", job.prediction_id).status for job in jobs]
    assert statuses == [
        *[PredictionStatus.SUCCEEDED] * 4,
        PredictionStatus.PROCESSING,
        *[PredictionStatus.SUCCEEDED] * 5,
    ]


def test_a_cancel_during_the_model_call_still_wins_among_ten() -> None:
    store = InMemoryPredictionStore()
    jobs = _queued(store, TEN)
    canceled = jobs[3].prediction_id

    class CancelingRuntime:
        def predict(self, inputs: Sequence[Mapping[str, Any]], timeout: float | None = None) -> list[RuntimeResult]:
            store.transition(store.get("acme", canceled), Transition(PredictionStatus.CANCELED, "2026-12-01T00:00:00Z"))
            return [dict(item) for item in inputs]

    results = _runner(store, CancelingRuntime()).run_many(jobs)

    assert results == [*[RunOutcome.SUCCEEDED] * 3, RunOutcome.SKIPPED, *[RunOutcome.SUCCEEDED] * 6]
    assert store.get("acme", canceled).status is PredictionStatus.CANCELED
    assert store.get("acme", canceled).output is None


def test_the_same_prediction_twice_in_one_delivery_is_run_and_written_once() -> None:
    store = InMemoryPredictionStore()
    [job] = _queued(store, 1)
    writes = store.writes

    results = _runner(store).run_many([job, job])

    assert results == [RunOutcome.SUCCEEDED, RunOutcome.SKIPPED]
    assert store.writes - writes == 2  # processing, succeeded


@pytest.fixture
def submitter_keys() -> Iterator[None]:
    before = dict(logger.thread_safe_get_current_keys())
    yield
    logger.thread_safe_clear_keys()
    append_log_keys(**before)


@pytest.mark.usefixtures("submitter_keys")
def test_a_task_sets_its_correlation_id_on_its_own_context_only() -> None:
    set_correlation_id("req-submitter")
    seen: list[str | None] = []

    def work(item: int) -> int:
        seen.append(correlation_id())
        if item == 3:
            raise ValueError("three")
        return item * 2

    results = TaskPool(4).map(work, list(range(6)), [f"req-{n}" for n in range(6)])

    assert [r if not isinstance(r, Exception) else "raised" for r in results] == [0, 2, 4, "raised", 8, 10]
    assert sorted(seen, key=str) == [f"req-{n}" for n in range(6)]
    assert correlation_id() == "req-submitter"
