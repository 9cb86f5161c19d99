"""The line codecs: OpenAI's batch lines read strictly, refused with a code and a param, and each outcome
written byte for byte as OpenAI's Batch API writes it; Infergate's lines unchanged."""

import json
from typing import Any

import pytest

from shared.batches.codecs import InfergateLines, OpenAiLines, codec_for, error_answer
from shared.batches.lines import MAX_LINE_BYTES, BatchLine, LineError, LineErrorCode
from shared.batches.models import Batch, BatchDialect, BatchStatus, ChunkOutcome
from shared.registry.models import ModelVersion
from shared.registry.text import MAX_TEXTS, TextSpec
from shared.runtimes.base import ModelFailure, Unfinished

BATCH = Batch(
    id="bat_01JD5YB4W3ZV0B4S8FZ7Q6N9XK",
    tenant="acme",
    model="tiny-embed",
    version=2,
    status=BatchStatus.IN_PROGRESS,
    input_upload_id=None,
    input_key="uploads/acme/file_01JD5YB4W3ZV0B4S8FZ7Q6N9XK",
    created_at="2026-12-06T16:00:00Z",
    expires_at=0,
    dialect=BatchDialect.OPENAI,
    endpoint="/v1/embeddings",
)
VERSION = ModelVersion(
    "tiny-embed", 2, "text", {}, {}, "2026-12-06T16:00:00Z", text=TextSpec("feature-extraction", 32, dimension=2)
)
OPENAI = OpenAiLines("/v1/embeddings")


def _line(**overrides: Any) -> bytes:
    value: dict[str, Any] = {
        "custom_id": "r-1",
        "method": "POST",
        "url": "/v1/embeddings",
        "body": {"model": "tiny-embed", "input": ["a cat", "a dog"]},
    }
    value.update(overrides)
    return json.dumps(value).encode()


def _parsed(raw: bytes, number: int = 4) -> BatchLine:
    line = OPENAI.parse(number, raw)
    assert isinstance(line, BatchLine), line
    return line


def test_an_openai_line_is_its_texts_and_its_normalised_body() -> None:
    line = _parsed(_line())

    assert line == BatchLine(
        4,
        "r-1",
        {"model": "tiny-embed", "encoding_format": "float", "dimensions": None},
        model="tiny-embed",
        texts=("a cat", "a dog"),
        single=False,
    )
    assert OPENAI.inputs(line) == [{"text": "a cat"}, {"text": "a dog"}]
    single = _parsed(_line(body={"model": "m:1", "input": "hi", "encoding_format": "base64", "user": "u"}))
    assert (single.texts, single.single, single.model, single.input["encoding_format"]) == (
        ("hi",),
        True,
        "m:1",
        "base64",
    )


@pytest.mark.parametrize(
    ("raw", "code", "param"),
    [
        (b"not json", LineErrorCode.INVALID_JSON, None),
        (b'{"custom_id": "a", "custom_id": "b"}', LineErrorCode.DUPLICATE_KEY, None),
        (b'{"custom_id": "a", "body": {"input": NaN}}', LineErrorCode.INVALID_JSON, None),
        (b"[1]", LineErrorCode.NOT_AN_OBJECT, None),
        (_line(custom_id=""), LineErrorCode.INVALID_CUSTOM_ID, "custom_id"),
        (_line(custom_id="x" * 65), LineErrorCode.INVALID_CUSTOM_ID, "custom_id"),
        (_line(input={"text": "native"}), LineErrorCode.INVALID_LINE, "input"),
        (_line(method="GET"), LineErrorCode.INVALID_METHOD, "method"),
        (_line(method=None), LineErrorCode.INVALID_METHOD, "method"),
        (_line(url="/v1/chat/completions"), LineErrorCode.INVALID_URL, "url"),
        (_line(url="/v1/embeddings/"), LineErrorCode.INVALID_URL, "url"),
        (_line(body=["a"]), LineErrorCode.INVALID_BODY, "body"),
        (_line(body={"model": "m", "input": []}), LineErrorCode.INVALID_BODY, "body.input"),
        (_line(body={"model": "m", "input": ""}), LineErrorCode.INVALID_BODY, "body.input"),
        (_line(body={"model": "m", "input": ["a", ""]}), LineErrorCode.INVALID_BODY, "body.input"),
        (_line(body={"model": "m", "input": [1, 2]}), LineErrorCode.INVALID_BODY, "body.input"),
        (_line(body={"model": "m", "input": ["a"] * (MAX_TEXTS + 1)}), LineErrorCode.INVALID_BODY, "body.input"),
        (_line(body={"model": "m"}), LineErrorCode.INVALID_BODY, "body.input"),
        (_line(body={"input": "a"}), LineErrorCode.INVALID_BODY, "body.model"),
        (_line(body={"model": 7, "input": "a"}), LineErrorCode.INVALID_BODY, "body.model"),
        (
            _line(body={"model": "m", "input": "a", "encoding_format": "int8"}),
            LineErrorCode.INVALID_BODY,
            "body.encoding_format",
        ),
        (_line(body={"model": "m", "input": "a", "dimensions": 0}), LineErrorCode.INVALID_BODY, "body.dimensions"),
        (_line(body={"model": "m", "input": "a", "temperature": 1}), LineErrorCode.INVALID_BODY, "body.temperature"),
        (_line(body={"model": "m", "input": "x" * MAX_LINE_BYTES}), LineErrorCode.LINE_TOO_LARGE, None),
    ],
)
def test_a_bad_openai_line_is_refused_with_its_number_code_and_param(
    raw: bytes, code: LineErrorCode, param: str | None
) -> None:
    error = OPENAI.parse(9, raw)

    assert isinstance(error, LineError), error
    assert (error.line, error.code, error.param) == (9, code, param)
    assert error.message
    assert "x" * 20 not in error.message  # never echoes the line back


def test_a_wrong_url_names_what_a_batch_serves() -> None:
    error = OPENAI.parse(2, _line(url="/v1/chat/completions"))

    assert isinstance(error, LineError)
    assert error.message == "url must be '/v1/embeddings', the batch's endpoint: a batch serves only /v1/embeddings."


def test_a_line_s_texts_are_regrouped_into_one_output() -> None:
    line = _parsed(_line())
    results = [{"embedding": [0.5, 1.0], "tokens": 3}, {"embedding": [0.25, -1.0], "tokens": 4}]

    assert OPENAI.combine(line, results, VERSION) == {"embeddings": [[0.5, 1.0], [0.25, -1.0]], "tokens": [3, 4]}


def test_a_line_fails_whole_with_its_first_failing_text_worded_as_the_route_words_it() -> None:
    line = _parsed(_line(body={"model": "m", "input": ["a", "b", "c"]}))
    too_long = ModelFailure("input_too_long", "The text is 40 tokens long; this model takes at most 32.")
    broken = ModelFailure("model_error", "The model failed on this input.")

    failed = OPENAI.combine(line, [{"embedding": [1.0], "tokens": 1}, too_long, broken], VERSION)
    other = OPENAI.combine(line, [{"embedding": [1.0], "tokens": 1}, broken, too_long], VERSION)
    single = OPENAI.combine(_parsed(_line(body={"model": "m", "input": "a"})), [too_long], VERSION)

    assert failed == ModelFailure(
        "input_too_long",
        "This model's maximum context length is 32 tokens; the text at /input/1 is longer. Please shorten or split it.",
    )
    assert other == ModelFailure(
        "model_error",
        "The model did not produce an output (model_error): The model failed on this input. "
        "/input/1: model_error: The model failed on this input.",
    )
    assert isinstance(single, ModelFailure)
    assert "the text at /input is longer" in single.message


def test_a_line_with_a_text_stopped_among_others_is_unfinished_so_it_runs_again_alone() -> None:
    line = _parsed(_line())

    assert OPENAI.combine(line, [{"embedding": [1.0], "tokens": 1}, Unfinished(5.0)], VERSION) == Unfinished(5.0)


def test_dimensions_other_than_the_model_s_and_a_model_that_does_not_embed_fail_the_line_before_it_runs() -> None:
    wrong = _parsed(_line(body={"model": "m", "input": "a", "dimensions": 3}))
    right = _parsed(_line(body={"model": "m", "input": "a", "dimensions": 2}))
    classifier = ModelVersion("clf", 1, "text", {}, {}, "t", text=TextSpec("text-classification", 32, labels=("a",)))

    assert OPENAI.precheck(wrong, VERSION) == ModelFailure(
        "invalid_dimensions",
        "Model 'tiny-embed' does not support shortening embeddings: 'dimensions' must be 2 (its dimension) or "
        "left out.",
    )
    assert OPENAI.precheck(right, VERSION) is None
    failure = OPENAI.precheck(right, classifier)
    assert failure is not None
    assert failure.code == "not_embeddings"


def _ids(line: BatchLine) -> tuple[str, str]:
    written = json.loads(OPENAI.unrun(BATCH, line, ChunkOutcome.CANCELED))
    return written["id"], json.loads(OPENAI.success(BATCH, line, {"embeddings": [[1.0]], "tokens": [1]}))["response"][
        "request_id"
    ]


def test_ids_are_fixed_by_the_batch_and_the_line_and_differ_between_lines() -> None:
    line_id, request = _ids(_parsed(_line(), number=4))

    assert (line_id, request) == _ids(_parsed(_line(custom_id="other"), number=4))  # the line number, not its text
    assert line_id.startswith("batch_req_")
    assert len(line_id) == len("batch_req_") + 32
    assert request.startswith("req_")
    assert _ids(_parsed(_line(), number=5))[0] != line_id
    assert _ids(_parsed(_line(), number=4))[0] != _ids(_parsed(_line(), number=4))[1].replace("req_", "batch_req_")


def test_a_success_is_written_byte_for_byte_as_openai_s_batch_output() -> None:
    line = _parsed(_line())
    line_id, request = _ids(line)

    written = OPENAI.success(BATCH, line, {"embeddings": [[0.5, 1.0], [0.25, -1.0]], "tokens": [3, 4]})

    assert (
        written
        == (
            '{"id":"' + line_id + '","custom_id":"r-1","response":{"status_code":200,"request_id":"' + request + '",'
            '"body":{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5,1.0]},'
            '{"object":"embedding","index":1,"embedding":[0.25,-1.0]}],"model":"tiny-embed:2",'
            '"usage":{"prompt_tokens":7,"total_tokens":7}}},"error":null}\n'
        ).encode()
    )


def test_a_success_in_base64_holds_the_route_s_float32_bytes() -> None:
    line = _parsed(_line(body={"model": "m", "input": "a", "encoding_format": "base64"}))
    line_id, request = _ids(line)

    written = OPENAI.success(BATCH, line, {"embeddings": [[1.0, -2.0]], "tokens": [2]})

    assert (
        written
        == (
            '{"id":"' + line_id + '","custom_id":"r-1","response":{"status_code":200,"request_id":"' + request + '",'
            '"body":{"object":"list","data":[{"object":"embedding","index":0,"embedding":"AACAPwAAAMA="}],'
            '"model":"tiny-embed:2","usage":{"prompt_tokens":2,"total_tokens":2}}},"error":null}\n'
        ).encode()
    )


def test_a_refused_line_is_written_with_the_route_s_error_answer() -> None:
    line = _parsed(_line())
    line_id, request = _ids(line)
    message = (
        "This model's maximum context length is 32 tokens; the text at /input/1 is longer. Please shorten or split it."
    )

    written = OPENAI.failure(BATCH, line, ModelFailure("input_too_long", message))

    assert (
        written
        == (
            '{"id":"' + line_id + '","custom_id":"r-1","response":{"status_code":400,"request_id":"' + request + '",'
            '"body":{"error":{"message":"' + message + '","type":"invalid_request_error","param":"input",'
            '"code":"context_length_exceeded"}}},"error":null}\n'
        ).encode()
    )


@pytest.mark.parametrize(
    ("failure", "status", "kind", "param", "code"),
    [
        (ModelFailure("model_unavailable", "This model version is not available."), 503, "server_error", None, None),
        (ModelFailure("timeout", "The model did not finish."), 400, "invalid_request_error", "input", "timeout"),
        (ModelFailure("invalid_dimensions", "No."), 400, "invalid_request_error", "dimensions", None),
        (ModelFailure("model_error", "Broke."), 400, "invalid_request_error", "input", None),
    ],
)
def test_each_failure_has_the_status_and_error_the_route_answers(
    failure: ModelFailure, status: int, kind: str, param: str | None, code: str | None
) -> None:
    answered, body = error_answer(failure)

    assert (answered, body) == (
        status,
        {"error": {"message": failure.message, "type": kind, "param": param, "code": code}},
    )


@pytest.mark.parametrize(
    ("outcome", "code", "message"),
    [
        (ChunkOutcome.CANCELED, "batch_cancelled", "The batch was canceled before this line ran."),
        (ChunkOutcome.TIMED_OUT, "batch_expired", "The batch did not run this line in time."),
    ],
)
def test_a_line_that_never_ran_has_no_response_and_openai_s_error_code(
    outcome: ChunkOutcome, code: str, message: str
) -> None:
    line = _parsed(_line())
    line_id, _ = _ids(line)

    written = OPENAI.unrun(BATCH, line, outcome)

    assert (
        written
        == (
            '{"id":"'
            + line_id
            + '","custom_id":"r-1","response":null,"error":{"code":"'
            + code
            + '","message":"'
            + message
            + '"}}\n'
        ).encode()
    )


def test_infergate_lines_are_written_as_before_dialects() -> None:
    native = InfergateLines()
    line = native.parse(1, b'{"custom_id": "r-1", "input": {"text": "hi"}}')
    assert isinstance(line, BatchLine)

    assert native.inputs(line) == [{"text": "hi"}]
    assert native.success(BATCH, line, {"label": "positive"}) == b'{"custom_id":"r-1","output":{"label":"positive"}}\n'
    assert native.failure(BATCH, line, ModelFailure("invalid_input", "Line 1: /text: bad")) == (
        b'{"custom_id":"r-1","error":{"code":"invalid_input","message":"Line 1: /text: bad"}}\n'
    )
    assert native.unrun(BATCH, line, ChunkOutcome.CANCELED) == (
        b'{"custom_id":"r-1","error":{"code":"canceled","message":"The batch was canceled before this line ran."}}\n'
    )


def test_the_codec_is_chosen_by_the_batch_s_dialect() -> None:
    from dataclasses import replace

    assert isinstance(codec_for(BATCH), OpenAiLines)
    assert isinstance(codec_for(replace(BATCH, dialect=BatchDialect.INFERGATE)), InfergateLines)
