"""Run one chunk of a batch: its lines as one micro-batch, results as two small parts, counts once.

The parts are written before the counts, under names fixed by the chunk: a chunk run twice (a
duplicate delivery, a crash between the two writes) writes the same parts again and is counted once,
so no line is ever in the result files twice. A chunk whose shared model call ran out of time runs its
unfinished lines one at a time (``shared.batches.alone``), over more deliveries if need be, and is counted
when every line is settled. A chunk of a canceling batch is not run: its lines go to
its error part as ``canceled``. The chunk whose count completes the batch queues the finalizer; so does
any later delivery that finds the counts complete, in case that message was lost.

A model call's time limit covers checking its lines against the input schema too: the checks stop after
``validation_seconds`` (the lines not checked by then fail with ``timeout``) and the model gets what is
left, so hostile schemas cannot make a chunk outlast its function.

A line is one model input (Infergate's dialect) or several (OpenAI's: one per text of ``body.input``): the
chunk's inputs run in one call and each line's results are regrouped by its codec
(``shared.batches.codecs``), which also writes the output and error lines in the batch's dialect. The
unit that is checked, run alone, timed out and counted stays the line.
"""

import time
from collections.abc import Callable

from shared.batches.alone import AloneRuns
from shared.batches.codecs import LineCodec, codec_for
from shared.batches.lines import BatchLine
from shared.batches.models import Batch, BatchNotFoundError, BatchStatus, ChunkOutcome, ChunkResult
from shared.batches.object_keys import alone_key, errors_part_key, output_part_key
from shared.batches.parts import chunk_lines, skip_chunk
from shared.batches.ports import BatchFiles, BatchSteps, BatchStore
from shared.kernel.messages import RunBatchChunk
from shared.kernel.observability import logger, metrics
from shared.registry.models import (
    InvalidModelInputError,
    ModelNotFoundError,
    ModelRef,
    ModelVersion,
    UnusableModelSchemaError,
)
from shared.registry.service import ModelRegistry
from shared.runtimes.base import (
    TIMEOUT,
    FinalResult,
    JsonObject,
    ModelFailure,
    ModelRuntime,
    RuntimeResult,
    Unfinished,
    settled,
)
from shared.runtimes.budget import WorkerBudget
from shared.runtimes.calls import predict_isolating_faults
from shared.runtimes.loader import RuntimeUnavailableError

RuntimeLoader = Callable[[ModelVersion], ModelRuntime]


class ChunkRunner:
    def __init__(
        self,
        store: BatchStore,
        files: BatchFiles,
        steps: BatchSteps,
        registry: ModelRegistry,
        load_runtime: RuntimeLoader,
        validation_seconds: float,
    ) -> None:
        self._store = store
        self._files = files
        self._steps = steps
        self._registry = registry
        self._load_runtime = load_runtime
        self._validation_seconds = validation_seconds

    def run(self, job: RunBatchChunk, budget: WorkerBudget | None = None) -> bool:
        """True when the chunk is done with; False when lines are left to run alone in another delivery.
        Infrastructure faults propagate, so the chunk's message is delivered again.

        ``budget`` limits each model call, and a line runs alone only while a whole call still fits."""
        try:
            batch = self._store.get(job.tenant, job.batch_id)
        except BatchNotFoundError:
            logger.warning("chunk of a batch that no longer exists", extra={"batch_id": job.batch_id})
            return True
        if batch.status is BatchStatus.IN_PROGRESS:
            ran = self._execute(batch, job, budget)
            if ran is None:
                return False
            result = ran
        elif batch.status is BatchStatus.CANCELING:  # its lines are not run: they are failed as canceled
            result = skip_chunk(
                self._files, batch, job.chunk, job.first_line, job.start, job.end, ChunkOutcome.CANCELED
            )
        else:
            return True  # finished already: a late duplicate
        counted = self._store.count_chunk(job.tenant, job.batch_id, result)
        current = counted if counted is not None else self._store.get(job.tenant, job.batch_id)
        if counted is None:
            logger.info("chunk counted before", extra={"batch_id": job.batch_id, "chunk": job.chunk})
        if current.status in (BatchStatus.IN_PROGRESS, BatchStatus.CANCELING) and (
            current.chunks_total is not None and current.chunks_done >= current.chunks_total
        ):
            self._steps.finalize(job.tenant, job.batch_id)
        return True

    def _execute(self, batch: Batch, job: RunBatchChunk, budget: WorkerBudget | None) -> ChunkResult | None:
        lines = chunk_lines(self._files, batch, job.first_line, job.start, job.end)
        settled_lines = self._outcomes(batch, job, lines, budget)
        if settled_lines is None:
            return None
        codec = codec_for(batch)
        outputs: list[bytes] = []
        errors: list[bytes] = []
        for line, outcome in zip(lines, settled_lines, strict=True):
            if isinstance(outcome, ModelFailure):
                errors.append(codec.failure(batch, line, outcome))
            else:
                outputs.append(codec.success(batch, line, outcome))
        if outputs:
            self._files.put(output_part_key(batch, job.chunk), b"".join(outputs))
        if errors:
            self._files.put(errors_part_key(batch, job.chunk), b"".join(errors))
        metrics.add_metric(name="BatchLinesRun", unit="Count", value=len(lines))
        return ChunkResult(job.chunk, completed=len(outputs), failed=len(errors))

    def _outcomes(
        self, batch: Batch, job: RunBatchChunk, lines: list[BatchLine], budget: WorkerBudget | None
    ) -> list[FinalResult] | None:
        """Every line's result: from one shared call, or, once a shared call ran out of time, from calls of
        one line each (None while lines are left for another delivery; the progress is saved)."""
        timeout = budget.call_seconds if budget is not None else None
        key = alone_key(batch, job.chunk)
        saved = self._files.get(key)
        if saved is None:
            shared = self._predict(batch, lines, timeout)
            if not any(isinstance(result, Unfinished) for result in shared):
                return [settled(result) for result in shared]
            logger.warning("chunk stopped at its time limit; running its lines alone", extra={"chunk": job.chunk})
            runs = AloneRuns.after_shared_call(lines, shared)
        else:
            runs = AloneRuns.from_bytes(saved)

        def run_alone(line: BatchLine) -> FinalResult:
            [result] = self._predict(batch, [line], timeout)
            return settled(result)  # alone, a stop is the line's own timeout

        results = runs.run(lines, run_alone, budget.allows_a_call if budget is not None else lambda: True)
        if results is None:
            self._files.put(key, runs.to_bytes(), "application/json")
        return results

    def _predict(self, batch: Batch, lines: list[BatchLine], timeout: float | None) -> list[RuntimeResult]:
        try:
            version = self._registry.resolve(batch.tenant, ModelRef(batch.model, batch.version))
            runtime = self._load_runtime(version)
        except (ModelNotFoundError, RuntimeUnavailableError):
            logger.exception("model unavailable", extra={"model": batch.model, "version": batch.version})
            return [ModelFailure("model_unavailable", "This model version is not available.")] * len(lines)
        codec = codec_for(batch)
        began = time.monotonic()
        outcomes, runnable = self._check(codec, version, lines, timeout)
        if not runnable:
            return outcomes
        # the model gets what is left of the call's time, to a tenth of a second (as its failures say)
        left = None if timeout is None else round(timeout - (time.monotonic() - began), 1)
        if left is not None and left <= 0:
            spent = ModelFailure(TIMEOUT, f"The time limit of {timeout:g} s ran out before the model ran.")
            for index in runnable:
                outcomes[index] = spent
            return outcomes
        inputs = [codec.inputs(lines[index]) for index in runnable]
        flat = [item for line_inputs in inputs for item in line_inputs]
        results = iter(predict_isolating_faults(runtime, flat, batch.model, left))
        for index, line_inputs in zip(runnable, inputs, strict=True):
            mine = [next(results) for _ in line_inputs]  # the line's own results, regrouped
            outcomes[index] = codec.combine(lines[index], mine, version)
        return outcomes

    def _check(
        self, codec: LineCodec, version: ModelVersion, lines: list[BatchLine], timeout: float | None
    ) -> tuple[list[RuntimeResult], list[int]]:
        """Each line's outcome so far (a failure, or ``{}`` to run) and the indexes of the lines to run.

        The checks stop at ``validation_seconds`` (or the call's ``timeout``, if shorter)."""
        checking = self._validation_seconds if timeout is None else min(self._validation_seconds, timeout)
        deadline = time.monotonic() + checking
        outcomes: list[RuntimeResult] = []
        runnable: list[int] = []
        for index, line in enumerate(lines):
            if time.monotonic() >= deadline:
                message = f"Line {line.number}: not checked against the input schema within {checking:g} s."
                outcomes.append(ModelFailure(TIMEOUT, message))
                continue
            refused = codec.precheck(line, version) or self._schema_failure(version, line, codec.inputs(line), deadline)
            if refused is not None:
                outcomes.append(refused)
                continue
            outcomes.append({})
            runnable.append(index)
        return outcomes, runnable

    def _schema_failure(
        self, version: ModelVersion, line: BatchLine, inputs: list[JsonObject], deadline: float
    ) -> ModelFailure | None:
        """Why the line's first input that does not fit the model's input schema fails it (None: all fit)."""
        for payload in inputs:
            try:
                self._registry.validate_input(version, payload, deadline=deadline)
            except InvalidModelInputError as invalid:
                first = invalid.errors[0]
                return ModelFailure("invalid_input", f"Line {line.number}: {first.pointer}: {first.detail}")
            except UnusableModelSchemaError as unusable:
                return ModelFailure("invalid_schema", f"Line {line.number}: {unusable}")
        return None
