"""The embeddings API's mapping: which inputs are texts, how vectors are encoded, and OpenAI's error shape."""

import base64
import struct
from typing import Any

import numpy as np
import pytest

from shared.api.openai_errors import openai_error
from shared.api.openai_schemas import CreateEmbeddingsOut, base64_float32
from shared.api.problems import PROBLEM_MEDIA_TYPE, error_document
from shared.inference.embeddings import Embeddings, texts_of
from shared.inference.errors import InvalidEmbeddingsRequestError
from shared.kernel.errors import FieldError
from shared.registry.models import ModelVersion
from shared.registry.text import MAX_TEXTS


def test_a_string_is_one_text_and_a_list_its_texts_in_order() -> None:
    assert texts_of("hello") == (["hello"], True)
    assert texts_of(["b", "a", "日本語 😀"]) == (["b", "a", "日本語 😀"], False)
    assert texts_of(["x"] * MAX_TEXTS) == (["x"] * MAX_TEXTS, False)


@pytest.mark.parametrize(
    ("value", "pointer", "says"),
    [
        ([1, 2, 3], "/input", "check_embedding_ctx_length=False"),
        ([[1, 2], [3]], "/input", "check_embedding_ctx_length=False"),
        ([[]], "/input", "token ids"),
        ("", "/input", "cannot be an empty string"),
        (["a", "", "b"], "/input/1", "/input/1 is empty"),
        ([], "/input", "at least one text"),
        (["a"] * (MAX_TEXTS + 1), "/input", "at most 2048 texts; this request has 2049"),
        (["a", 1], "/input", "a string or a list of strings"),
        ([True], "/input", "a string or a list of strings"),
        (None, "/input", "a string or a list of strings"),
    ],
)
def test_what_openai_refuses_or_cannot_mean_here_is_refused_naming_where(value: Any, pointer: str, says: str) -> None:
    with pytest.raises(InvalidEmbeddingsRequestError) as refused:
        texts_of(value)

    assert [error.pointer for error in refused.value.errors] == [pointer]
    assert says in str(refused.value)


def test_base64_is_little_endian_float32_as_the_openai_sdk_decodes_it() -> None:
    vector = [0.1, -2.5, 3.0e-8, 1234.5]

    encoded = base64_float32(vector)

    raw = base64.b64decode(encoded)
    assert raw == struct.pack("<4f", *vector)
    assert raw[:4] == bytes.fromhex("cdcccc3d")  # 0.1 as float32, least significant byte first
    # what openai/lib/_parsing/_embeddings.py does with numpy
    assert np.frombuffer(base64.b64decode(encoded), dtype="float32").tolist() == pytest.approx(vector, rel=1e-7)


def test_the_response_counts_every_token_and_names_the_version() -> None:
    version = ModelVersion("embedder", 3, "text", {}, {}, "2026-11-01T00:00:00.000Z")
    result = Embeddings(version, [[1.0, 2.0], [3.0, 4.0]], [5, 7])

    floats = CreateEmbeddingsOut.of(result, "float").model_dump()
    packed = CreateEmbeddingsOut.of(result, "base64").model_dump()

    assert floats == {
        "object": "list",
        "data": [
            {"object": "embedding", "index": 0, "embedding": [1.0, 2.0]},
            {"object": "embedding", "index": 1, "embedding": [3.0, 4.0]},
        ],
        "model": "embedder:3",
        "usage": {"prompt_tokens": 12, "total_tokens": 12},
    }
    assert [item["embedding"] for item in packed["data"]] == [base64_float32([1.0, 2.0]), base64_float32([3.0, 4.0])]


@pytest.mark.parametrize(
    ("status", "slug", "expected"),
    [
        (401, "unauthenticated", (401, "invalid_request_error", "invalid_api_key")),
        (403, "forbidden", (403, "invalid_request_error", None)),
        (404, "not-found", (404, "invalid_request_error", None)),  # a model's 404: the class names the code
        (413, "payload-too-large", (413, "invalid_request_error", None)),
        (422, "validation-failed", (400, "invalid_request_error", None)),
        (422, "input-too-long", (400, "invalid_request_error", "context_length_exceeded")),
        (422, "timeout", (400, "invalid_request_error", "timeout")),
        (429, "rate-limited", (429, "requests", "rate_limit_exceeded")),
        (500, "internal-error", (500, "server_error", None)),
        (503, "model-unavailable", (503, "server_error", None)),
    ],
)
def test_openai_s_status_type_and_code_for_each_problem(
    status: int, slug: str, expected: tuple[int, str, str | None]
) -> None:
    answered, body = openai_error(status, slug, "What went wrong.")

    assert (answered, body["error"]["type"], body["error"]["code"]) == expected
    assert body["error"]["message"] == "What went wrong."


def test_the_param_is_the_top_level_field_of_the_first_pointer_and_details_join_the_message() -> None:
    errors = [FieldError("/input/3", "is too long"), FieldError("/model", "is missing")]

    _, body = openai_error(422, "validation-failed", "The request body is invalid.", errors)

    assert body["error"]["param"] == "input"
    assert body["error"]["message"] == "The request body is invalid. /input/3: is too long; /model: is missing"
    assert openai_error(400, "bad-request", "x", [FieldError("#/header/x", "bad")])[1]["error"]["param"] is None


def test_the_shape_is_chosen_by_route_and_every_other_route_keeps_rfc_9457() -> None:
    openai = error_document("/v1/embeddings", 422, "validation-failed", "Bad.", [FieldError("/input", "Bad.")])
    oip = error_document("/v2/models/x/infer", 404, "not-found", "No.")
    rfc = error_document("/v1/models/x/predict", 404, "not-found", "No.")

    assert openai == (
        400,
        {"error": {"message": "Bad.", "type": "invalid_request_error", "param": "input", "code": None}},
        "application/json",
    )
    assert oip == (404, {"error": "No."}, "application/json")
    assert rfc[0] == 404
    assert rfc[1]["type"] == "urn:infergate:problem:not-found"
    assert rfc[2] == PROBLEM_MEDIA_TYPE
    assert error_document("/v1/embeddings/", 404, "not-found", "No.")[2] == PROBLEM_MEDIA_TYPE
