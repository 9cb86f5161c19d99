"""The worker's use case: run queued predictions exactly once, whatever the queue delivers.

Idempotent by construction: every status change is a conditional write, so a duplicate message,
a redelivery after a crash, or a cancel racing the model all end with one terminal state.

Micro-batching: the predictions of one delivery that target the same model version run in one
runtime call. A model that raises on the batch is retried one input at a time, so a bad input fails
only its own prediction. Each call has a time limit; a group is started only while the invocation
still has time for a whole call, so one slow model never makes other groups wait for a visibility timeout.

One slow input must not fail its neighbours either: when the limit stops a call of several inputs, the
runtime cannot say whose fault it was, so the unfinished predictions stay ``processing`` and their
messages go back to the queue at once (``STOPPED_WITH_OTHERS``). A prediction read as ``processing``
has had a run that did not end (stopped with others, or its worker died), so it runs alone, in a call of
its own with a whole limit: only then is a ``timeout`` its outcome.

The AWS round trips of a delivery overlap (``TaskPool``): all reads at once, then per group all
``processing`` writes at once, the model call, and the group's result writes (with their webhook
hand-offs) at once, still under way while the next group starts. Ten messages cost about three round
trips of waiting instead of thirty. Each write stays a conditional write of its own, so what decides a
race (a cancel, a duplicate delivery) is unchanged, and a task's fault is its message's alone. A group
is still started only after the budget check that follows the previous group's model call, so work
returned as ``DEFERRED`` is untouched.
"""

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from shared.kernel import tracing
from shared.kernel.observability import logger, metrics, set_correlation_id
from shared.kernel.tasks import Pending, TaskPool
from shared.predictions.models import (
    Prediction,
    PredictionError,
    PredictionNotFoundError,
    PredictionStatus,
    TransitionRejectedError,
)
from shared.predictions.ports import PredictionStore
from shared.predictions.transitions import Transitions
from shared.registry.models import ModelNotFoundError, ModelRef, ModelVersion
from shared.registry.service import ModelRegistry
from shared.runtimes.base import FinalResult, ModelFailure, ModelRuntime, Unfinished
from shared.runtimes.budget import WorkerBudget
from shared.runtimes.calls import predict_isolating_faults
from shared.runtimes.loader import RuntimeUnavailableError


class RunOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"  # already finished, canceled, expired, or finished by another delivery
    DEFERRED = "deferred"  # not started: too little time left in the invocation (the message goes back)
    # stopped at the time limit in a call with other inputs: left processing, the message goes back at once
    # and the next delivery runs it alone
    STOPPED_WITH_OTHERS = "stopped_with_others"


RuntimeLoader = Callable[[ModelVersion], ModelRuntime]


@dataclass(frozen=True)
class Job:
    tenant: str
    prediction_id: str
    correlation_id: str | None = None


JobResult = RunOutcome | Exception  # an exception leaves the job's message for redelivery


# An SQS batch holds at most ten messages: one task per message, each round trip at once.
TASKS_PER_DELIVERY = 10


@dataclass(frozen=True)
class _Verdict:
    status: PredictionStatus
    fields: dict[str, Any]


class PredictionRunner:
    def __init__(
        self,
        store: PredictionStore,
        transitions: Transitions,
        registry: ModelRegistry,
        load_runtime: RuntimeLoader,
        tasks: TaskPool | None = None,
    ) -> None:
        self._store = store
        self._transitions = transitions
        self._registry = registry
        self._load_runtime = load_runtime
        self._tasks = tasks if tasks is not None else TaskPool(TASKS_PER_DELIVERY)

    def run(self, tenant: str, prediction_id: str) -> RunOutcome:
        """One prediction; infrastructure faults (``TransientError``) propagate so the message is redelivered."""
        [result] = self.run_many([Job(tenant, prediction_id)])
        if isinstance(result, Exception):
            raise result
        return result

    def run_many(self, jobs: Sequence[Job], budget: WorkerBudget | None = None) -> list[JobResult]:
        """One result per job, in order; jobs for the same model version share one runtime call, except a
        prediction already ``processing``, which runs alone.

        With a ``budget``, each model call is limited to its ``call_seconds``, and a group is started only
        while a whole call still fits the invocation: the jobs of the groups that do not are ``DEFERRED``,
        untouched, for their messages to be delivered again at once. Jobs stopped by the limit together
        with others are ``STOPPED_WITH_OTHERS``: their messages go back too, to run alone.
        """
        results: list[JobResult | None] = [None] * len(jobs)
        unique: list[int] = []  # a prediction's first job; a second message for it in this delivery is skipped
        seen: set[tuple[str, str]] = set()
        for index, job in enumerate(jobs):
            if (job.tenant, job.prediction_id) in seen:
                set_correlation_id(job.correlation_id)
                logger.info("prediction delivered twice at once; run once", extra={"prediction_id": job.prediction_id})
                results[index] = RunOutcome.SKIPPED
                continue
            seen.add((job.tenant, job.prediction_id))
            unique.append(index)
        reads = self._tasks.map(self._read, [jobs[i] for i in unique], [jobs[i].correlation_id for i in unique])
        groups: dict[tuple[str, str, int, str], list[tuple[int, Prediction]]] = {}
        for index, read in zip(unique, reads, strict=True):
            if isinstance(read, Exception):  # this job's fault, reported for its own redelivery
                results[index] = read
            elif read is None:
                results[index] = RunOutcome.SKIPPED
            else:
                alone = read.id if read.status is PredictionStatus.PROCESSING else ""
                key = (read.tenant, read.model, read.version, alone)
                groups.setdefault(key, []).append((index, read))
        finishing: list[tuple[list[int], Pending[RunOutcome]]] = []  # result writes still under way
        for (tenant, model, version_number, _), members in groups.items():
            if budget is not None and not budget.allows_a_call():
                logger.info("too little time left to run a model; returning its jobs", extra={"model": model})
                for index, _ in members:
                    results[index] = RunOutcome.DEFERRED
                continue
            timeout = budget.call_seconds if budget is not None else None
            settled, recording = self._run_group(jobs, tenant, model, version_number, members, timeout)
            for index, result in settled:
                results[index] = result
            finishing.append(recording)
        for indexes, writes in finishing:
            for index, result in zip(indexes, writes.results(), strict=True):
                results[index] = result
        finished = Counter(result for result in results if isinstance(result, RunOutcome))
        for outcome in (RunOutcome.SUCCEEDED, RunOutcome.FAILED):  # one metric value per outcome and delivery
            if finished[outcome]:
                metrics.add_metric(
                    name=f"Prediction{outcome.value.capitalize()}", unit="Count", value=finished[outcome]
                )
        return [result if result is not None else RunOutcome.SKIPPED for result in results]

    def _run_group(
        self,
        jobs: Sequence[Job],
        tenant: str,
        model: str,
        version_number: int,
        members: Sequence[tuple[int, Prediction]],
        timeout: float | None,
    ) -> tuple[list[tuple[int, JobResult]], tuple[list[int], Pending[RunOutcome]]]:
        """Start the group's predictions (at once), run the started ones in one runtime call, and start
        recording each result: the results known now, and the writes under way with their jobs' indexes."""
        results: list[tuple[int, JobResult]] = []
        started: list[tuple[int, Prediction]] = []
        moves = self._tasks.map(
            self._start, [prediction for _, prediction in members], [jobs[i].correlation_id for i, _ in members]
        )
        for (index, _), moved in zip(members, moves, strict=True):
            if isinstance(moved, Exception):  # this job's fault, reported for its own redelivery
                results.append((index, moved))
            elif moved is None:
                results.append((index, RunOutcome.SKIPPED))
            else:
                started.append((index, moved))
        verdicts: Sequence[_Verdict | Unfinished | Exception] = []
        if started:
            set_correlation_id(jobs[started[0][0]].correlation_id)  # the group's own lines (model unavailable)
            origins = [jobs[index].correlation_id for index, _ in started]
            try:
                with tracing.resumed(origins[0]):  # the group's reads and model call: in its first job's trace
                    verdicts = self._predict_group(
                        tenant, model, version_number, [p for _, p in started], timeout, [o for o in origins[1:] if o]
                    )
            except Exception as exc:  # noqa: BLE001 - e.g. the registry throttled: redeliver the group's jobs
                verdicts = [exc] * len(started)
        to_record: list[tuple[int, Prediction, _Verdict]] = []
        for (index, prediction), verdict in zip(started, verdicts, strict=True):
            if isinstance(verdict, Exception):
                results.append((index, verdict))
            elif isinstance(verdict, Unfinished):  # whose fault is unknown: it runs alone on its next delivery
                set_correlation_id(jobs[index].correlation_id)
                logger.info(
                    "prediction stopped with others; returned to run alone", extra={"prediction_id": prediction.id}
                )
                results.append((index, RunOutcome.STOPPED_WITH_OTHERS))
            else:
                to_record.append((index, prediction, verdict))
        writes = self._tasks.start(
            self._finish, [(p, v) for _, p, v in to_record], [jobs[i].correlation_id for i, _, _ in to_record]
        )
        return results, ([index for index, _, _ in to_record], writes)

    def _read(self, job: Job) -> Prediction | None:
        """The job's prediction if it still has to run (``starting``, or ``processing`` on a redelivery)."""
        try:
            prediction = self._store.get(job.tenant, job.prediction_id)
        except PredictionNotFoundError:
            logger.warning("queued prediction no longer exists", extra={"prediction_id": job.prediction_id})
            return None
        if prediction.status in (PredictionStatus.STARTING, PredictionStatus.PROCESSING):
            return prediction
        return None

    def _start(self, prediction: Prediction) -> Prediction | None:
        """Move to ``processing``; a prediction already there (a redelivery) is run again."""
        if prediction.status is PredictionStatus.PROCESSING:
            logger.info("prediction redelivered while processing", extra={"prediction_id": prediction.id})
            return prediction
        try:
            return self._transitions.move(prediction, PredictionStatus.PROCESSING)
        except TransitionRejectedError as lost:
            return lost.current if lost.current.status is PredictionStatus.PROCESSING else None

    def _predict_group(
        self,
        tenant: str,
        model: str,
        version_number: int,
        group: Sequence[Prediction],
        timeout: float | None,
        others: Sequence[str] = (),
    ) -> list[_Verdict | Unfinished]:
        """The group's model call; its span is linked to the traces of the group's other jobs (``others``)."""
        try:
            version = self._registry.resolve(tenant, ModelRef(model, version_number))
            runtime = self._load_runtime(version)
        except (ModelNotFoundError, RuntimeUnavailableError):
            logger.exception("model unavailable", extra={"model": model, "version": version_number})
            unavailable = PredictionError("model_unavailable", "This model version is not available.")
            return [_Verdict(PredictionStatus.FAILED, {"error": unavailable}) for _ in group]
        began = time.perf_counter()
        attributes: tracing.Attributes = {
            tracing.TENANT: tenant,
            tracing.MODEL: model,
            tracing.MODEL_VERSION: version_number,
            "infergate.inputs": len(group),
        }
        with tracing.span(tracing.MODEL_CALL_SPAN, attributes, links=others):
            results = predict_isolating_faults(runtime, [prediction.input for prediction in group], model, timeout)
        share = (time.perf_counter() - began) / len(group)  # each input's share of the runtime call
        metrics.add_metric(name="MicroBatchSize", unit="Count", value=len(group))
        return [result if isinstance(result, Unfinished) else _verdict(result, share) for result in results]

    def _finish(self, verdict_of: tuple[Prediction, _Verdict]) -> RunOutcome:
        prediction, verdict = verdict_of
        try:
            finished = self._transitions.move(prediction, verdict.status, **verdict.fields)
        except TransitionRejectedError as lost:
            logger.info(
                "prediction result discarded", extra={"prediction_id": prediction.id, "status": lost.current.status}
            )
            return RunOutcome.SKIPPED
        logger.info("prediction finished", extra={"prediction_id": prediction.id, "status": finished.status})
        return RunOutcome(finished.status.value)


def _verdict(result: FinalResult, predict_time: float) -> _Verdict:
    if isinstance(result, ModelFailure):
        error = PredictionError(result.code, result.message)
        return _Verdict(PredictionStatus.FAILED, {"error": error, "predict_time": predict_time})
    return _Verdict(PredictionStatus.SUCCEEDED, {"output": result, "predict_time": predict_time})
