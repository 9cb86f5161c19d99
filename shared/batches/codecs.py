"""A batch's lines in its dialect: how a line is parsed, what the model runs for it, how its outcome is written.

One small interface (``LineCodec``) per dialect, chosen by ``batch.dialect`` (``codec_for``); the
validator, the chunk runner and the error part of an un-run chunk only ever speak to it.

- ``infergate``: ``{"custom_id", "input": {...}}`` in, one model input per line; out
  ``{"custom_id", "output"}`` or ``{"custom_id", "error": {"code", "message"}}`` (as before dialects).
- ``openai``: OpenAI's Batch API, ``{"custom_id", "method": "POST", "url": "/v1/embeddings", "body": {...}}``
  where ``body`` is a ``POST /v1/embeddings`` request, read as that route reads it
  (``shared.openai.embeddings``): one model input per text of ``body.input``, all of a chunk's texts in
  one runtime call, each line's outputs regrouped, and a line failed as a whole, with its first failing
  text, if any text fails. Out, in the output file, ``{"id", "custom_id", "response": {"status_code": 200,
  "request_id", "body": <what the route answers>}, "error": null}``; in the error file, the same with the
  route's error answer (``{"error": {"message", "type", "param", "code"}}``), or, for a line that never
  ran, ``"response": null`` and ``"error": {"code": "batch_cancelled" | "batch_expired", "message"}``.
  ``id`` and ``request_id`` are derived from the batch and the line number, so a chunk run twice writes
  the same bytes.
"""

import hashlib
import json
from collections.abc import Sequence
from typing import Any, Protocol

from pydantic import ValidationError

from shared.batches.lines import (
    BatchLine,
    LineError,
    LineErrorCode,
    parse_line,
    read_line,
)
from shared.batches.models import Batch, BatchDialect, ChunkOutcome
from shared.kernel.errors import FieldError
from shared.kernel.jsoncodec import plain_json_problem
from shared.openai.embeddings import (
    CreateEmbeddingsOut,
    CreateEmbeddingsRequest,
    Texts,
    dimensions_message,
    embeddings_spec,
    not_embeddings_message,
    read_texts,
)
from shared.openai.errors import context_length_message, model_failed_message, openai_error
from shared.registry.models import ModelVersion
from shared.runtimes.base import INPUT_TOO_LONG, TIMEOUT, JsonObject, ModelFailure, RuntimeResult

EMBEDDINGS_ENDPOINT = "/v1/embeddings"  # the one endpoint a batch serves
SERVED_ENDPOINTS = (EMBEDDINGS_ENDPOINT,)
OPENAI_LINE_FIELDS = frozenset({"custom_id", "method", "url", "body"})
UNRUN_MESSAGES = {
    ChunkOutcome.CANCELED: "The batch was canceled before this line ran.",
    ChunkOutcome.TIMED_OUT: "The batch did not run this line in time.",
    ChunkOutcome.EXPIRED: "The batch's completion window ended before this line ran.",
}
# A line that never ran, in OpenAI's error file: why, as OpenAI's codes say it.
OPENAI_UNRUN_CODES = {
    ChunkOutcome.CANCELED: "batch_cancelled",
    ChunkOutcome.TIMED_OUT: "batch_expired",
    ChunkOutcome.EXPIRED: "batch_expired",
}
MODEL_UNAVAILABLE = "model_unavailable"
INVALID_DIMENSIONS = "invalid_dimensions"
NOT_EMBEDDINGS = "not_embeddings"


class LineCodec(Protocol):
    def parse(self, number: int, raw: bytes) -> BatchLine | LineError:
        """Line ``number`` (1-based, without its line break), or what is wrong with it."""
        ...

    def inputs(self, line: BatchLine) -> list[JsonObject]:
        """What the model runs for the line: one input, or one per text."""
        ...

    def precheck(self, line: BatchLine, version: ModelVersion) -> ModelFailure | None:
        """A failure of the line the version decides before anything runs (None: run it)."""
        ...

    def combine(self, line: BatchLine, results: Sequence[RuntimeResult], version: ModelVersion) -> RuntimeResult:
        """The line's result from its inputs' results (in ``inputs`` order)."""
        ...

    def success(self, batch: Batch, line: BatchLine, output: JsonObject) -> bytes: ...

    def failure(self, batch: Batch, line: BatchLine, failure: ModelFailure) -> bytes: ...

    def unrun(self, batch: Batch, line: BatchLine, outcome: ChunkOutcome) -> bytes: ...


def codec_for(batch: Batch) -> LineCodec:
    if batch.dialect is BatchDialect.OPENAI:
        return OpenAiLines(batch.endpoint or EMBEDDINGS_ENDPOINT)
    return InfergateLines()


def jsonl(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n"


class InfergateLines:
    """Infergate's own lines, byte for byte as before dialects existed."""

    def parse(self, number: int, raw: bytes) -> BatchLine | LineError:
        return parse_line(number, raw)

    def inputs(self, line: BatchLine) -> list[JsonObject]:
        return [line.input]

    def precheck(self, line: BatchLine, version: ModelVersion) -> ModelFailure | None:
        return None

    def combine(self, line: BatchLine, results: Sequence[RuntimeResult], version: ModelVersion) -> RuntimeResult:
        [result] = results
        return result

    def success(self, batch: Batch, line: BatchLine, output: JsonObject) -> bytes:
        return jsonl({"custom_id": line.custom_id, "output": output})

    def failure(self, batch: Batch, line: BatchLine, failure: ModelFailure) -> bytes:
        return jsonl({"custom_id": line.custom_id, "error": {"code": failure.code, "message": failure.message}})

    def unrun(self, batch: Batch, line: BatchLine, outcome: ChunkOutcome) -> bytes:
        return self.failure(batch, line, ModelFailure(outcome.value, UNRUN_MESSAGES[outcome]))


class OpenAiLines:
    """OpenAI's Batch API lines for ``endpoint`` (``/v1/embeddings``, the only one served)."""

    def __init__(self, endpoint: str) -> None:
        self._endpoint = endpoint

    def parse(self, number: int, raw: bytes) -> BatchLine | LineError:
        read = read_line(number, raw, OPENAI_LINE_FIELDS)
        if isinstance(read, LineError):
            return read
        value, custom_id = read
        if value.get("method") != "POST":
            return LineError(number, LineErrorCode.INVALID_METHOD, "method must be 'POST'.", "method")
        if value.get("url") != self._endpoint:
            served = ", ".join(SERVED_ENDPOINTS)
            message = f"url must be '{self._endpoint}', the batch's endpoint: a batch serves only {served}."
            return LineError(number, LineErrorCode.INVALID_URL, message, "url")
        body = value.get("body")
        if not isinstance(body, dict):
            return LineError(number, LineErrorCode.INVALID_BODY, "body must be a JSON object.", "body")
        problem = plain_json_problem(value)
        if problem is not None:
            return LineError(number, LineErrorCode.INVALID_JSON, f"The line {problem}.")
        return _embeddings_line(number, custom_id, body)

    def inputs(self, line: BatchLine) -> list[JsonObject]:
        return [{"text": text} for text in line.texts]

    def precheck(self, line: BatchLine, version: ModelVersion) -> ModelFailure | None:
        spec = embeddings_spec(version)
        if spec is None:
            return ModelFailure(NOT_EMBEDDINGS, not_embeddings_message(version.name))
        dimensions = line.input.get("dimensions")
        if dimensions is not None and dimensions != spec.dimension:
            return ModelFailure(INVALID_DIMENSIONS, dimensions_message(version.name, spec.dimension))
        return None

    def combine(self, line: BatchLine, results: Sequence[RuntimeResult], version: ModelVersion) -> RuntimeResult:
        """Every text's embedding; or the line's failure: its first failing text, worded as the route words
        it; or, if a text was stopped with others, that (the line then runs again alone)."""
        texts = Texts(list(line.texts), line.single)
        for index, result in enumerate(results):
            if isinstance(result, ModelFailure):
                return _route_failure(result, texts.pointer(index), version)
        outputs: list[JsonObject] = []
        for result in results:
            if not isinstance(result, dict):
                return result
            outputs.append(result)
        return {"embeddings": [o["embedding"] for o in outputs], "tokens": [o["tokens"] for o in outputs]}

    def success(self, batch: Batch, line: BatchLine, output: JsonObject) -> bytes:
        answer = CreateEmbeddingsOut.render(
            f"{batch.model}:{batch.version}", output["embeddings"], output["tokens"], line.input["encoding_format"]
        )
        response = {"status_code": 200, "request_id": request_id(batch, line), "body": answer.model_dump(mode="json")}
        return jsonl({"id": line_id(batch, line), "custom_id": line.custom_id, "response": response, "error": None})

    def failure(self, batch: Batch, line: BatchLine, failure: ModelFailure) -> bytes:
        status, body = error_answer(failure)
        response = {"status_code": status, "request_id": request_id(batch, line), "body": body}
        return jsonl({"id": line_id(batch, line), "custom_id": line.custom_id, "response": response, "error": None})

    def unrun(self, batch: Batch, line: BatchLine, outcome: ChunkOutcome) -> bytes:
        error = {"code": OPENAI_UNRUN_CODES[outcome], "message": UNRUN_MESSAGES[outcome]}
        return jsonl({"id": line_id(batch, line), "custom_id": line.custom_id, "response": None, "error": error})


def _embeddings_line(number: int, custom_id: str, body: dict[str, Any]) -> BatchLine | LineError:
    """The line of a ``POST /v1/embeddings`` body, refused where the route refuses it (``param``:
    ``body.<field>``)."""
    texts = read_texts(body["input"]) if "input" in body else None
    if texts is not None and not isinstance(texts, Texts):
        return LineError(number, LineErrorCode.INVALID_BODY, f"body: {texts.message}", "body.input")
    try:
        request = CreateEmbeddingsRequest.model_validate(body)
    except ValidationError as invalid:
        first = invalid.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        where = f"body.{field}"[:80] if field else "body"
        return LineError(number, LineErrorCode.INVALID_BODY, f"{where}: {first['msg']}.", where)
    assert texts is not None  # ``input`` is required: validation refused a body without it
    normalised = request.model_dump(mode="json", exclude={"user", "input"})  # encoding_format's default filled in
    return BatchLine(number, custom_id, normalised, model=request.model, texts=tuple(texts.texts), single=texts.single)


# A line's failure code -> the route's answer for it: status and problem slug (as ``shared.api.problems``
# maps the errors ``POST /v1/embeddings`` raises), and the field at fault.
_ROUTE_ANSWERS: dict[str, tuple[int, str, str | None]] = {
    INPUT_TOO_LONG: (422, "input-too-long", "/input"),  # ContextLengthExceededError
    TIMEOUT: (422, "timeout", "/input"),  # ModelTimeoutError
    MODEL_UNAVAILABLE: (503, "model-unavailable", None),  # ModelUnavailableError
    INVALID_DIMENSIONS: (422, "invalid-request", "/dimensions"),  # InvalidEmbeddingsRequestError
    NOT_EMBEDDINGS: (422, "invalid-request", "/model"),  # InvalidEmbeddingsRequestError
}
_MODEL_FAILED = (422, "prediction-failed", "/input")  # PredictionFailedError


def error_answer(failure: ModelFailure) -> tuple[int, JsonObject]:
    """The status and body ``POST /v1/embeddings`` answers for the failure (422s are OpenAI's 400)."""
    status, slug, pointer = _ROUTE_ANSWERS.get(failure.code, _MODEL_FAILED)
    errors = [FieldError(pointer, failure.message)] if pointer else None
    return openai_error(status, slug, failure.message, errors)


def _route_failure(failure: ModelFailure, pointer: str, version: ModelVersion) -> ModelFailure:
    """A text's failure as the route words it for a request (naming the text by its pointer)."""
    if failure.code == INPUT_TOO_LONG and version.text is not None:
        return ModelFailure(INPUT_TOO_LONG, context_length_message(version.text.max_tokens, pointer))
    detail = model_failed_message(failure.code, failure.message)
    _, body = openai_error(
        422, "prediction-failed", detail, [FieldError(pointer, f"{failure.code}: {failure.message}")]
    )
    return ModelFailure(failure.code, str(body["error"]["message"]))


def line_id(batch: Batch, line: BatchLine) -> str:
    return "batch_req_" + _digest(batch, line, b"line")


def request_id(batch: Batch, line: BatchLine) -> str:
    return "req_" + _digest(batch, line, b"request")


def _digest(batch: Batch, line: BatchLine, person: bytes) -> str:
    return hashlib.blake2b(f"{batch.id}/{line.number}".encode(), digest_size=16, person=person).hexdigest()
