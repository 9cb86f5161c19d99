"""Validate a batch's input file in bounded steps that continue themselves, then fan its chunks out.

Each step streams at most ``step_bytes`` of the file from where the last one stopped, checks every line
(JSON object, ``custom_id``, ``input``, size, duplicates) and records its chunks; what it learned is
saved in one S3 object (custom_id digests, chunks, problems) before the next step is queued. A step
delivered twice is recognised by the offset it starts at: it queues its continuation again, nothing more.

The first step copies the upload to the batch's own object, so what was validated is what runs even if
the upload's URL is used again. A file with any problem fails as a whole and runs nothing; otherwise the
batch moves to ``in_progress`` with its total and chunk count, and one message per chunk is queued.
Whether each line's ``input`` fits the model's schema is checked by the worker that runs the chunk, and
reported there per line. Lines are read in the batch's dialect (``shared.batches.codecs``); in OpenAI's,
every line must also name the model its first line names (``mismatched_model``).
"""

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from shared.batches.chunks import Chunk, ChunkPlanner, read_lines
from shared.batches.codecs import LineCodec, codec_for
from shared.batches.finalizer import BatchFinalizer
from shared.batches.lines import LINE_TOO_LARGE_MESSAGE, BatchLine, LineErrorCode
from shared.batches.models import (
    MAX_LINES,
    MAX_REPORTED_ERRORS,
    Batch,
    BatchStatus,
    BatchTransition,
    BatchTransitionRejectedError,
    LineProblem,
    problem_list,
)
from shared.batches.object_keys import input_key, validation_key
from shared.batches.ports import BatchFiles, BatchSteps, BatchStore, ChunkQueue
from shared.kernel.clock import to_rfc3339, utc_now
from shared.kernel.observability import logger

DIGEST_BYTES = 8  # custom_id digests: 50,000 of them collide with odds below 1e-10


@dataclass
class ValidationState:
    step_start: int = 0  # where the step that saved this state began
    offset: int = 0  # where the next step begins
    line: int = 1  # the number of the line at ``offset``
    lines: int = 0  # non-blank lines so far
    digests: set[bytes] = field(default_factory=set)
    chunks: list[Chunk] = field(default_factory=list)
    problems: list[LineProblem] = field(default_factory=list)
    more_problems: int = 0
    finished: bool = False
    model: str | None = None  # OpenAI's dialect: the model the first line names, which every line must name

    def add_problem(self, problem: LineProblem) -> None:
        if len(self.problems) < MAX_REPORTED_ERRORS:
            self.problems.append(problem)
        else:
            self.more_problems += 1

    def to_bytes(self) -> bytes:
        return json.dumps(
            {
                "step_start": self.step_start,
                "offset": self.offset,
                "line": self.line,
                "lines": self.lines,
                "digests": base64.b64encode(b"".join(sorted(self.digests))).decode("ascii"),
                "chunks": [[c.index, c.first_line, c.start, c.end, c.lines] for c in self.chunks],
                "problems": [[p.line, p.code, p.message, p.param] for p in self.problems],
                "more_problems": self.more_problems,
                "finished": self.finished,
                "model": self.model,
            }
        ).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> "ValidationState":
        raw: dict[str, Any] = json.loads(data)
        packed = base64.b64decode(raw["digests"])
        return cls(
            step_start=raw["step_start"],
            offset=raw["offset"],
            line=raw["line"],
            lines=raw["lines"],
            digests={packed[i : i + DIGEST_BYTES] for i in range(0, len(packed), DIGEST_BYTES)},
            chunks=[Chunk(*values) for values in raw["chunks"]],
            problems=[LineProblem(*values) for values in raw["problems"]],
            more_problems=raw["more_problems"],
            finished=raw["finished"],
            model=raw.get("model"),  # states saved before dialects have none
        )


@dataclass(frozen=True)
class ValidationLimits:
    step_bytes: int = 16 * 1024 * 1024  # read per step: well inside the function's timeout
    chunk_lines: int = 100  # lines per queue message (the worker runs them as one micro-batch)
    chunk_bytes: int = 4 * 1024 * 1024  # bytes per chunk: bounds a worker's memory


class BatchValidator:
    def __init__(
        self,
        store: BatchStore,
        files: BatchFiles,
        steps: BatchSteps,
        chunk_queue: ChunkQueue,
        finalizer: BatchFinalizer,
        limits: ValidationLimits = ValidationLimits(),
    ) -> None:
        self._store = store
        self._files = files
        self._steps = steps
        self._chunk_queue = chunk_queue
        self._finalizer = finalizer
        self._limits = limits

    def step(self, tenant: str, batch_id: str, offset: int, line: int) -> None:
        batch = self._store.get(tenant, batch_id)
        if batch.status is BatchStatus.CANCELING:
            self._finalizer.finish(batch)
            return
        state = self._state_for(batch, offset)
        if state is None:
            return  # a stale duplicate: the validation has moved past this step
        if state.step_start == offset and (state.offset != offset or state.finished):
            self._after_step(batch, state)  # this step ran before: redo only what followed it
            return
        if batch.status is not BatchStatus.VALIDATING:
            return
        if offset == 0 and not self._files.copy(batch.input_key, input_key(batch)):
            problem = LineProblem(0, "input_file_missing", "The input file was deleted before the batch read it.")
            self._finalizer.fail(batch, (problem,))
            return
        self._read(batch, state, line)
        self._files.put(validation_key(batch), state.to_bytes(), "application/json")
        self._after_step(batch, state)

    def _state_for(self, batch: Batch, offset: int) -> ValidationState | None:
        saved = self._files.get(validation_key(batch))
        if saved is None:
            return ValidationState() if offset == 0 else None
        state = ValidationState.from_bytes(saved)
        if state.step_start == offset or (state.offset == offset and not state.finished):
            return state
        return None

    def _read(self, batch: Batch, state: ValidationState, first_line: int) -> None:
        limits = self._limits
        start = state.offset
        planner = ChunkPlanner(limits.chunk_lines, limits.chunk_bytes, first_index=len(state.chunks))
        state.step_start = start
        codec = codec_for(batch)
        blocks = self._files.stream(input_key(batch), start)
        reached_end = True
        try:
            for raw in read_lines(blocks, start, first_line):
                state.offset, state.line = raw.end, raw.number + 1
                if raw.data.strip() or raw.too_long:
                    state.lines += 1
                    if state.lines > MAX_LINES:
                        state.add_problem(
                            LineProblem(raw.number, "too_many_lines", f"A batch has at most {MAX_LINES} lines.")
                        )
                        break
                    self._check(codec, state, raw.number, raw.data, raw.too_long)
                closed = planner.add(raw)
                if closed is not None:
                    state.chunks.append(closed)
                if raw.end - start >= limits.step_bytes:
                    reached_end = False
                    break
        finally:
            close = getattr(blocks, "close", None)
            if close is not None:
                close()
        last = planner.finish()
        if last is not None and last.lines > 0:
            state.chunks.append(last)
        state.finished = reached_end

    @staticmethod
    def _check(codec: LineCodec, state: ValidationState, number: int, data: bytes, too_long: bool) -> None:
        if too_long:
            state.add_problem(LineProblem(number, LineErrorCode.LINE_TOO_LARGE.value, LINE_TOO_LARGE_MESSAGE))
            return
        parsed = codec.parse(number, data)
        if not isinstance(parsed, BatchLine):
            state.add_problem(LineProblem(parsed.line, parsed.code.value, parsed.message, parsed.param))
            return
        digest = hashlib.blake2b(parsed.custom_id.encode("utf-8"), digest_size=DIGEST_BYTES).digest()
        if digest in state.digests:
            message = "This custom_id is used by an earlier line."
            state.add_problem(LineProblem(number, LineErrorCode.DUPLICATE_CUSTOM_ID.value, message, "custom_id"))
            return
        state.digests.add(digest)
        if parsed.model is not None:  # OpenAI's rule: one model per batch, the one its first line names
            if state.model is None:
                state.model = parsed.model
            elif parsed.model != state.model:
                message = f"Every line of a batch must name the same model as its first line ('{state.model[:80]}')."
                state.add_problem(LineProblem(number, LineErrorCode.MISMATCHED_MODEL.value, message, "body.model"))

    def _after_step(self, batch: Batch, state: ValidationState) -> None:
        if not state.finished:
            self._steps.validate(batch.tenant, batch.id, state.offset, state.line)
            return
        if batch.status is BatchStatus.IN_PROGRESS:  # the fan-out may have been cut short: send it again
            self._chunk_queue.send_chunks(batch.tenant, batch.id, state.chunks)
            return
        if batch.status is not BatchStatus.VALIDATING:
            return
        problems = list(state.problems)
        if state.lines == 0 and not problems:
            problems.append(LineProblem(0, "empty_file", "The file has no lines."))
        try:
            if problems:
                logger.info("batch file refused", extra={"batch_id": batch.id, "problems": len(problems)})
                self._finalizer.fail(batch, problem_list(problems, state.more_problems))
                return
            started = self._store.transition(
                batch,
                BatchTransition(
                    BatchStatus.IN_PROGRESS, to_rfc3339(utc_now()), total=state.lines, chunks_total=len(state.chunks)
                ),
            )
        except BatchTransitionRejectedError as lost:
            if lost.current.status is BatchStatus.CANCELING:
                self._finalizer.finish(lost.current)
            return
        logger.info("batch validated", extra={"batch_id": batch.id, "lines": state.lines, "chunks": len(state.chunks)})
        self._chunk_queue.send_chunks(started.tenant, started.id, state.chunks)
