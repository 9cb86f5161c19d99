"""Run one chunk of a batch: its lines as one micro-batch, results as two small parts, counts once.

The parts are written before the counts, under names fixed by the chunk: a chunk run twice (a
duplicate delivery, a crash between the two writes) writes the same parts again and is counted once,
so no line is ever in the result files twice. The chunk whose count completes the batch queues the
finalizer; so does any later delivery that finds the counts complete, in case that message was lost.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.batches.keys import errors_part_key, input_key, output_part_key
from shared.batches.lines import BatchLine, parse_line, split_lines
from shared.batches.models import Batch, BatchNotFoundError, BatchStatus, ChunkResult
from shared.batches.ports import BatchFiles, BatchSteps, BatchStore
from shared.observability import logger, metrics
from shared.registry.models import ModelNotFoundError, ModelRef, ModelVersion
from shared.registry.service import InvalidModelInputError, ModelRegistry, UnusableModelSchemaError
from shared.runtimes.base import ModelFailure, ModelRuntime
from shared.runtimes.calls import predict_isolating_faults
from shared.runtimes.loader import RuntimeUnavailableError

RuntimeLoader = Callable[[ModelVersion], ModelRuntime]


@dataclass(frozen=True)
class ChunkJob:
    tenant: str
    batch_id: str
    chunk: int
    first_line: int
    start: int
    end: int


class ChunkRunner:
    def __init__(
        self,
        store: BatchStore,
        files: BatchFiles,
        steps: BatchSteps,
        registry: ModelRegistry,
        load_runtime: RuntimeLoader,
    ) -> None:
        self._store = store
        self._files = files
        self._steps = steps
        self._registry = registry
        self._load_runtime = load_runtime

    def run(self, job: ChunkJob) -> None:
        """Infrastructure faults propagate, so the chunk's message is delivered again."""
        try:
            batch = self._store.get(job.tenant, job.batch_id)
        except BatchNotFoundError:
            logger.warning("chunk of a batch that no longer exists", extra={"batch_id": job.batch_id})
            return
        if batch.status is BatchStatus.IN_PROGRESS:
            result = self._execute(batch, job)
        elif batch.status is BatchStatus.CANCELING:
            result = ChunkResult(job.chunk, ran=False)  # canceled: its lines are not run
        else:
            return  # finished already: a late duplicate
        counted = self._store.count_chunk(job.tenant, job.batch_id, result)
        current = counted if counted is not None else self._store.get(job.tenant, job.batch_id)
        if counted is None:
            logger.info("chunk counted before", extra={"batch_id": job.batch_id, "chunk": job.chunk})
        if current.status in (BatchStatus.IN_PROGRESS, BatchStatus.CANCELING) and (
            current.chunks_total is not None and current.chunks_done >= current.chunks_total
        ):
            self._steps.finalize(job.tenant, job.batch_id)

    def _execute(self, batch: Batch, job: ChunkJob) -> ChunkResult:
        data = self._files.read_range(input_key(batch), job.start, job.end)
        lines: list[BatchLine] = []
        for number, raw in split_lines(data, job.first_line):
            parsed = parse_line(number, raw)
            if not isinstance(parsed, BatchLine):  # validated before: only a changed object gets here
                raise ValueError(f"line {number} of a validated batch does not parse")
            lines.append(parsed)
        outputs: list[bytes] = []
        errors: list[bytes] = []
        for line, outcome in zip(lines, self._predict(batch, lines), strict=True):
            if isinstance(outcome, ModelFailure):
                errors.append(
                    _jsonl({"custom_id": line.custom_id, "error": {"code": outcome.code, "message": outcome.message}})
                )
            else:
                outputs.append(_jsonl({"custom_id": line.custom_id, "output": outcome}))
        if outputs:
            self._files.put(output_part_key(batch, job.chunk), b"".join(outputs))
        if errors:
            self._files.put(errors_part_key(batch, job.chunk), b"".join(errors))
        metrics.add_metric(name="BatchLinesRun", unit="Count", value=len(lines))
        return ChunkResult(job.chunk, completed=len(outputs), failed=len(errors))

    def _predict(self, batch: Batch, lines: list[BatchLine]) -> list[dict[str, Any] | ModelFailure]:
        try:
            version = self._registry.resolve(batch.tenant, ModelRef(batch.model, batch.version))
            runtime = self._load_runtime(version)
        except (ModelNotFoundError, RuntimeUnavailableError):
            logger.exception("model unavailable", extra={"model": batch.model, "version": batch.version})
            return [ModelFailure("model_unavailable", "This model version is not available.")] * len(lines)
        outcomes: list[dict[str, Any] | ModelFailure] = []
        runnable: list[int] = []
        for index, line in enumerate(lines):
            try:
                self._registry.validate_input(version, line.input)
            except InvalidModelInputError as invalid:
                first = invalid.errors[0]
                message = f"Line {line.number}: {first.pointer}: {first.detail}"
                outcomes.append(ModelFailure("invalid_input", message))
                continue
            except UnusableModelSchemaError as unusable:
                outcomes.append(ModelFailure("invalid_schema", f"Line {line.number}: {unusable}"))
                continue
            outcomes.append({})
            runnable.append(index)
        results = predict_isolating_faults(runtime, [lines[i].input for i in runnable], batch.model) if runnable else []
        for index, result in zip(runnable, results, strict=True):
            outcomes[index] = result
        return outcomes


def _jsonl(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n"
