"""PredictionRunner: exactly one terminal state whatever the queue delivers."""

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from shared.kernel.clock import to_rfc3339, utc_now
from shared.kernel.errors import TransientError
from shared.predictions.models import Prediction, PredictionStatus, Transition
from shared.predictions.runner import Job, PredictionRunner, RunOutcome
from shared.predictions.transitions import Transitions
from shared.registry.models import ModelVersion
from shared.registry.service import ModelRegistry
from shared.runtimes.base import ModelFailure, ModelRuntime, RuntimeResult, Unfinished
from shared.runtimes.budget import WorkerBudget
from shared.runtimes.echo import EchoRuntime
from tests.support.fakes import InMemoryModelStore, InMemoryPredictionStore, InMemoryPublisher
from tests.support.resources import PREDICTION_ID as PRED_ID
from tests.support.resources import a_prediction


class CountingRuntime:
    def __init__(self, result: RuntimeResult | Exception | None = None) -> None:
        self.calls = 0
        self.result = result

    def predict(self, inputs: Sequence[Mapping[str, Any]], timeout: float | None = None) -> list[RuntimeResult]:
        self.calls += 1
        if isinstance(self.result, Exception):
            raise self.result
        if self.result is not None:
            return [self.result for _ in inputs]
        return EchoRuntime().predict(inputs)


def _prediction(status: PredictionStatus = PredictionStatus.STARTING) -> Prediction:
    return a_prediction(status=status, input={"hello": "world"})


def _runner(store: InMemoryPredictionStore, runtime: ModelRuntime) -> PredictionRunner:
    def load(version: ModelVersion) -> ModelRuntime:
        return runtime

    return PredictionRunner(store, Transitions(store, InMemoryPublisher()), ModelRegistry(InMemoryModelStore()), load)


def test_a_queued_prediction_succeeds_with_output_and_predict_time() -> None:
    store = InMemoryPredictionStore()
    store.create(_prediction())

    outcome = _runner(store, CountingRuntime()).run("acme", PRED_ID)

    stored = store.get("acme", PRED_ID)
    assert outcome is RunOutcome.SUCCEEDED
    assert stored.status is PredictionStatus.SUCCEEDED
    assert stored.output == {"hello": "world"}
    assert stored.started_at is not None
    assert stored.predict_time is not None
    assert stored.total_time is not None


def test_a_duplicate_delivery_produces_one_result() -> None:
    store = InMemoryPredictionStore()
    store.create(_prediction())
    runtime = CountingRuntime()
    runner = _runner(store, runtime)

    first = runner.run("acme", PRED_ID)
    writes_after_first = store.writes
    second = runner.run("acme", PRED_ID)

    assert (first, second) == (RunOutcome.SUCCEEDED, RunOutcome.SKIPPED)
    assert runtime.calls == 1
    assert store.writes == writes_after_first


def test_a_canceled_prediction_is_never_run() -> None:
    store = InMemoryPredictionStore()
    store.create(_prediction(PredictionStatus.CANCELED))
    runtime = CountingRuntime()

    assert _runner(store, runtime).run("acme", PRED_ID) is RunOutcome.SKIPPED
    assert runtime.calls == 0


def test_a_prediction_canceled_mid_run_stays_canceled() -> None:
    store = InMemoryPredictionStore()
    store.create(_prediction())

    class CancelingRuntime:
        def predict(self, inputs: Sequence[Mapping[str, Any]], timeout: float | None = None) -> list[RuntimeResult]:
            store.transition(store.get("acme", PRED_ID), Transition(PredictionStatus.CANCELED, to_rfc3339(utc_now())))
            return [{"too": "late"}]

    outcome = _runner(store, CancelingRuntime()).run("acme", PRED_ID)

    stored = store.get("acme", PRED_ID)
    assert outcome is RunOutcome.SKIPPED
    assert stored.status is PredictionStatus.CANCELED
    assert stored.output is None


def test_a_model_exception_fails_the_prediction_with_a_code_and_no_retry() -> None:
    store = InMemoryPredictionStore()
    store.create(_prediction())

    outcome = _runner(store, CountingRuntime(RuntimeError("secret internals"))).run("acme", PRED_ID)

    stored = store.get("acme", PRED_ID)
    assert outcome is RunOutcome.FAILED
    assert stored.error is not None
    assert stored.error.code == "model_error"
    assert "secret internals" not in stored.error.message


def test_a_model_failure_result_fails_with_its_own_code() -> None:
    store = InMemoryPredictionStore()
    store.create(_prediction())

    _runner(store, CountingRuntime(ModelFailure("invalid_input", "bad text"))).run("acme", PRED_ID)

    stored = store.get("acme", PRED_ID)
    assert stored.status is PredictionStatus.FAILED
    assert stored.error is not None
    assert (stored.error.code, stored.error.message) == ("invalid_input", "bad text")


def test_a_redelivery_after_a_crash_in_processing_finishes_the_prediction() -> None:
    store = InMemoryPredictionStore()
    store.create(_prediction())
    store.transition(store.get("acme", PRED_ID), Transition(PredictionStatus.PROCESSING, to_rfc3339(utc_now())))

    outcome = _runner(store, CountingRuntime()).run("acme", PRED_ID)

    assert outcome is RunOutcome.SUCCEEDED
    assert store.get("acme", PRED_ID).status is PredictionStatus.SUCCEEDED


def test_a_message_for_an_expired_prediction_is_dropped() -> None:
    runtime = CountingRuntime()

    assert _runner(InMemoryPredictionStore(), runtime).run("acme", PRED_ID) is RunOutcome.SKIPPED
    assert runtime.calls == 0


@pytest.mark.parametrize("status", [PredictionStatus.SUCCEEDED, PredictionStatus.FAILED])
def test_finished_predictions_are_not_run_again(status: PredictionStatus) -> None:
    store = InMemoryPredictionStore()
    store.create(_prediction(status))
    runtime = CountingRuntime()

    assert _runner(store, runtime).run("acme", PRED_ID) is RunOutcome.SKIPPED
    assert runtime.calls == 0


def test_a_model_without_a_runtime_fails_as_unavailable_and_is_not_left_processing() -> None:
    from shared.runtimes.loader import RuntimeUnavailableError

    store = InMemoryPredictionStore()
    store.create(_prediction())

    def broken(version: ModelVersion) -> ModelRuntime:
        raise RuntimeUnavailableError("no layer")

    outcome = PredictionRunner(
        store, Transitions(store, InMemoryPublisher()), ModelRegistry(InMemoryModelStore()), broken
    ).run("acme", PRED_ID)

    stored = store.get("acme", PRED_ID)
    assert outcome is RunOutcome.FAILED
    assert stored.error is not None
    assert stored.error.code == "model_unavailable"


def _queued(store: InMemoryPredictionStore, count: int, model: str = "echo") -> list[str]:
    ids = []
    for index in range(count):
        prediction_id = f"pred_01JD5YB4W3ZV0B4S8FZ7Q6N9{index:02d}"
        store.create(a_prediction(id=prediction_id, model=model, input={"n": index}))
        ids.append(prediction_id)
    return ids


class PickyRuntime:
    """Raises on any batch holding ``{"n": 2}``; fails ``{"n": 3}`` politely."""

    def __init__(self) -> None:
        self.batches: list[int] = []

    def predict(self, inputs: Sequence[Mapping[str, Any]], timeout: float | None = None) -> list[RuntimeResult]:
        self.batches.append(len(inputs))
        if any(item.get("n") == 2 for item in inputs):
            raise RuntimeError("boom")
        return [ModelFailure("invalid_input", "no 3s") if item.get("n") == 3 else dict(item) for item in inputs]


def test_one_runtime_call_per_model_version_and_a_raising_input_fails_alone() -> None:
    store = InMemoryPredictionStore()
    ids = _queued(store, 5)
    runtime = PickyRuntime()

    results = _runner(store, runtime).run_many([Job("acme", i) for i in ids])

    assert results == [
        RunOutcome.SUCCEEDED,
        RunOutcome.SUCCEEDED,
        RunOutcome.FAILED,
        RunOutcome.FAILED,
        RunOutcome.SUCCEEDED,
    ]
    assert runtime.batches == [5, 1, 1, 1, 1, 1]  # the batch raised: then one by one
    assert store.get("acme", ids[2]).error.code == "model_error"  # type: ignore[union-attr]
    assert store.get("acme", ids[3]).error.code == "invalid_input"  # type: ignore[union-attr]
    assert store.get("acme", ids[4]).output == {"n": 4}


def test_a_delivery_counts_its_outcomes_in_one_metric_value_each() -> None:
    from shared.kernel.observability import metrics

    store = InMemoryPredictionStore()
    ids = _queued(store, 5)
    metrics.clear_metrics()

    _runner(store, PickyRuntime()).run_many([Job("acme", i) for i in ids])

    recorded = {name: metric["Value"] for name, metric in metrics.metric_set.items()}
    metrics.clear_metrics()
    assert recorded == {"MicroBatchSize": [5.0], "PredictionSucceeded": [3.0], "PredictionFailed": [2.0]}


def test_an_infrastructure_fault_in_one_group_leaves_only_its_jobs_for_redelivery() -> None:
    store = InMemoryPredictionStore()
    echo_ids = _queued(store, 2)
    sentiment_id = "pred_01JD5YB4W3ZV0B4S8FZ7Q6N9ZZ"
    store.create(a_prediction(id=sentiment_id, model="sentiment", input={"text": "hi"}))

    def load(version: ModelVersion) -> ModelRuntime:
        if version.name == "sentiment":
            raise TransientError("throttled")
        return EchoRuntime()

    runner = PredictionRunner(store, Transitions(store, InMemoryPublisher()), ModelRegistry(InMemoryModelStore()), load)
    results = runner.run_many([Job("acme", echo_ids[0]), Job("acme", sentiment_id), Job("acme", echo_ids[1])])

    assert results[0] is RunOutcome.SUCCEEDED
    assert isinstance(results[1], TransientError)
    assert results[2] is RunOutcome.SUCCEEDED
    assert store.get("acme", sentiment_id).status is PredictionStatus.PROCESSING  # redelivery finishes it


class SlowOneRuntime:
    """Stopped at its time limit whenever ``{"n": 1}`` is in the call: every input of a shared call is then
    unfinished (as onnxruntime reports it); run alone, only ``{"n": 1}`` times out."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []

    def predict(self, inputs: Sequence[Mapping[str, Any]], timeout: float | None = None) -> list[RuntimeResult]:
        self.batches.append([item["n"] for item in inputs])
        if any(item["n"] == 1 for item in inputs):
            return [Unfinished(2.0) for _ in inputs]
        return [dict(item) for item in inputs]


def test_inputs_stopped_together_stay_processing_and_their_next_delivery_runs_each_alone() -> None:
    store = InMemoryPredictionStore()
    ids = _queued(store, 3)
    runtime = SlowOneRuntime()
    runner = _runner(store, runtime)

    first = runner.run_many([Job("acme", i) for i in ids])
    between = [store.get("acme", i) for i in ids]
    second = runner.run_many([Job("acme", i) for i in ids])

    assert first == [RunOutcome.STOPPED_WITH_OTHERS] * 3
    assert [(p.status, p.error) for p in between] == [(PredictionStatus.PROCESSING, None)] * 3
    assert second == [RunOutcome.SUCCEEDED, RunOutcome.FAILED, RunOutcome.SUCCEEDED]
    assert runtime.batches == [[0, 1, 2], [0], [1], [2]]  # one shared call, then one call each
    slow = store.get("acme", ids[1])
    assert slow.error is not None
    assert (slow.error.code, slow.error.message) == (
        "timeout",
        "The model did not finish within its time limit of 2 s.",
    )
    assert store.get("acme", ids[2]).output == {"n": 2}


def test_a_prediction_to_run_alone_waits_when_the_invocation_has_no_time_for_its_own_call() -> None:
    store = InMemoryPredictionStore()
    ids = _queued(store, 2)
    runtime = SlowOneRuntime()
    runner = _runner(store, runtime)
    runner.run_many([Job("acme", i) for i in ids])
    room = iter([True, False])  # time for one call of its own, not for two
    budget = WorkerBudget(2.0, 1.0, lambda: 3.0 if next(room) else 0.0)

    results = runner.run_many([Job("acme", i) for i in ids], budget)

    assert results == [RunOutcome.SUCCEEDED, RunOutcome.DEFERRED]
    assert store.get("acme", ids[1]).status is PredictionStatus.PROCESSING  # still to run alone
    assert runtime.batches == [[0, 1], [0]]
