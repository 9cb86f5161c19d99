"""``POST /v1/embeddings`` on moto: the tests' tiny text model registered through the real upload and register
handlers (or stored as registration stores it, for the refusals), then the route's handler called as API
Gateway calls it. Its answers, errors included, must be OpenAI's shapes; every other route keeps RFC 9457."""

import base64
import json
from typing import Any

import numpy as np
import pytest

from functions.create_embeddings import app as embeddings_app
from shared.adapters.clients import dynamodb_client, s3_client
from shared.settings import BucketSettings, StoreSettings, settings
from shared.wiring import reset
from tests.conftest import CapturedLogs, Credential, MintKey
from tests.support.events import bearer, response_json
from tests.support.example_text_model import EMBEDDING_MODEL, store_example_text_model
from tests.support.gateway import call
from tests.support.registry_flow import register_text_model
from tests.support.text_models import DIM, MAX_POSITIONS, expected_embedding, token_count
from tools.provision import Stack

TEXTS = ["The cat sat on the mat.", "Über café: 日本語, naïve 😀 résumé", "hello world " * 5]
ERROR_KEYS = ["code", "message", "param", "type"]


def _register_tiny(secret: str, name: str = "tiny-embed") -> None:
    register_text_model(secret, name)


def _seed_tiny(tenant: str) -> None:
    """The tiny model as registration stores it, without the inspector's run (for the refusals)."""
    places = settings(StoreSettings).table_name, settings(BucketSettings).bucket_name, dynamodb_client(), s3_client()
    store_example_text_model(tenant, *places)


def _embed(secret: str | None, body: Any, **headers: str) -> dict[str, Any]:
    sent = {**(bearer(secret) if secret else {}), **headers}
    response: dict[str, Any] = call("POST", "/v1/embeddings", body=body, headers=sent)
    return response


def _openai_error(response: dict[str, Any], status: int) -> dict[str, Any]:
    """The error of an OpenAI-shaped answer: exactly ``{"error": {message, type, param, code}}``."""
    body = response_json(response)
    assert response["statusCode"] == status, body
    assert response["headers"]["content-type"] == "application/json"
    assert list(body) == ["error"]
    assert sorted(body["error"]) == ERROR_KEYS
    error: dict[str, Any] = body["error"]
    return error


def test_embeddings_in_float_and_base64_equal_the_predict_route_s(stack: Stack, admin: Credential) -> None:
    # Given the tiny model registered from its archive
    _register_tiny(admin.secret)

    # When the texts are embedded in both encodings, one text alone, and each by the sync predict route
    floats = _embed(admin.secret, {"model": "tiny-embed", "input": TEXTS, "encoding_format": "float"})
    packed = _embed(admin.secret, {"model": "tiny-embed:1", "input": TEXTS, "encoding_format": "base64"})
    default = _embed(admin.secret, {"model": "tiny-embed", "input": TEXTS[0]})
    predicted = [
        response_json(
            call("POST", "/v1/models/tiny-embed/predict", body={"input": {"text": t}}, headers=bearer(admin.secret))
        )
        for t in TEXTS
    ]

    # Then every path gives the same vectors, in OpenAI's shape, with the tokens the model read
    assert (floats["statusCode"], packed["statusCode"], default["statusCode"]) == (200, 200, 200)
    as_floats, as_base64, alone = response_json(floats), response_json(packed), response_json(default)
    tokens = sum(token_count(text) for text in TEXTS)
    for body in (as_floats, as_base64):
        assert (body["object"], body["model"]) == ("list", "tiny-embed:1")
        assert body["usage"] == {"prompt_tokens": tokens, "total_tokens": tokens}
        assert [(item["object"], item["index"]) for item in body["data"]] == [("embedding", n) for n in range(3)]
    for n, text in enumerate(TEXTS):
        decoded = np.frombuffer(base64.b64decode(as_base64["data"][n]["embedding"]), dtype="<f4")
        vector = as_floats["data"][n]["embedding"]
        assert len(vector) == len(decoded) == DIM
        assert vector == pytest.approx(predicted[n]["output"]["embedding"], abs=1e-6)
        assert decoded.tolist() == pytest.approx(vector, abs=1e-6)
        assert vector == pytest.approx(expected_embedding(text), abs=1e-6)
    assert [item["index"] for item in alone["data"]] == [0]  # float is the default without encoding_format
    assert alone["data"][0]["embedding"] == pytest.approx(as_floats["data"][0]["embedding"], abs=1e-6)
    assert alone["usage"]["prompt_tokens"] == token_count(TEXTS[0])


def test_dimensions_are_honoured_only_as_the_model_s_own(stack: Stack, admin: Credential) -> None:
    _seed_tiny(admin.tenant)

    same = _embed(admin.secret, {"model": EMBEDDING_MODEL, "input": "hello", "dimensions": DIM})
    shorter = _embed(admin.secret, {"model": EMBEDDING_MODEL, "input": "hello", "dimensions": DIM // 2})

    assert same["statusCode"] == 200
    assert len(response_json(same)["data"][0]["embedding"]) == DIM
    error = _openai_error(shorter, 400)
    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", "dimensions", None)
    assert "does not support shortening" in error["message"]
    assert f"must be {DIM}" in error["message"]


TOO_LONG = "the cat sat on the mat " * 10  # 62 tokens with [CLS] and [SEP], over the tiny model's 32
REFUSED: dict[str, tuple[dict[str, Any], str, str | None, str]] = {
    "token ids": ({"input": [1, 2, 3]}, "input", None, "check_embedding_ctx_length=False"),
    "token id arrays": ({"input": [[1, 2], [3]]}, "input", None, "check_embedding_ctx_length=False"),
    "empty string": ({"input": ""}, "input", None, "cannot be an empty string"),
    "empty string in a list": ({"input": ["a", ""]}, "input", None, "/input/1"),
    "empty list": ({"input": []}, "input", None, "at least one text"),
    "lone surrogate": ({"input": "\ud800"}, "input", None, "/input must be valid Unicode (no lone surrogates)"),
    "lone surrogate in a list": ({"input": ["a", "b\udfff"]}, "input", None, "/input/1 must be valid Unicode"),
    "2,049 texts": ({"input": ["a"] * 2049}, "input", None, "at most 2048 texts; this request has 2049"),
    "mixed list": ({"input": ["a", 1]}, "input", None, "The request body is invalid."),
    "over the token limit": (
        {"input": ["hello", TOO_LONG]},
        "input",
        "context_length_exceeded",
        f"This model's maximum context length is {MAX_POSITIONS} tokens; the text at /input/1 is longer.",
    ),
    "unknown encoding": ({"input": "a", "encoding_format": "float16"}, "encoding_format", None, "'float'"),
    "unknown argument": ({"input": "a", "truncate": True}, "truncate", None, "Extra inputs are not permitted"),
    "no input": ({}, "input", None, "Field required"),
    "dimensions zero": ({"input": "a", "dimensions": 0}, "dimensions", None, "greater than or equal to 1"),
}


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_a_request_openai_refuses_is_a_400_in_openai_s_shape_naming_the_field(
    stack: Stack, admin: Credential, case: str
) -> None:
    body, param, code, says = REFUSED[case]
    _seed_tiny(admin.tenant)

    error = _openai_error(_embed(admin.secret, {"model": EMBEDDING_MODEL, **body}), 400)

    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", param, code)
    assert says in error["message"]


def test_exactly_2048_texts_are_embedded(stack: Stack, admin: Credential) -> None:
    _seed_tiny(admin.tenant)
    texts = [f"{word} cat" for word in ("the", "a", "dog", "mat") * 512]

    response = _embed(admin.secret, {"model": EMBEDDING_MODEL, "input": texts, "encoding_format": "base64"})

    body = response_json(response)
    assert response["statusCode"] == 200, body
    assert [item["index"] for item in body["data"]] == list(range(2048))
    assert body["usage"]["prompt_tokens"] == 2048 * 4
    last = np.frombuffer(base64.b64decode(body["data"][2047]["embedding"]), dtype="<f4")
    assert last.tolist() == pytest.approx(expected_embedding("mat cat"), abs=1e-6)


def test_a_missing_or_unknown_key_is_a_401_invalid_api_key(stack: Stack) -> None:
    body = {"model": EMBEDDING_MODEL, "input": "hello"}

    missing = _embed(None, body)
    unknown = _embed("igk_notakey000000000000000000000000000", body)

    for response in (missing, unknown):
        error = _openai_error(response, 401)
        assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", None, "invalid_api_key")
        assert response["headers"]["www-authenticate"] == "Bearer"


def test_an_unknown_model_another_tenant_s_and_a_malformed_name_are_404_model_not_found(
    stack: Stack, admin: Credential, mint: MintKey
) -> None:
    _seed_tiny(admin.tenant)
    other = mint("globex")

    answers = [
        _embed(admin.secret, {"model": "no-such-model", "input": "hello"}),
        _embed(other.secret, {"model": EMBEDDING_MODEL, "input": "hello"}),
        _embed(admin.secret, {"model": "Not A Name!", "input": "hello"}),
        _embed(admin.secret, {"model": f"{EMBEDDING_MODEL}:2", "input": "hello"}),
    ]
    predict = call("POST", "/v1/models/no-such-model/predict", body={"input": {}}, headers=bearer(admin.secret))

    for response in answers:
        error = _openai_error(response, 404)
        assert (error["type"], error["code"]) == ("invalid_request_error", "model_not_found")
    assert "There is no model 'no-such-model'." in _openai_error(answers[0], 404)["message"]
    # Every other route keeps RFC 9457.
    assert predict["headers"]["content-type"] == "application/problem+json"
    assert response_json(predict)["type"] == "urn:infergate:problem:not-found"


def test_a_model_that_does_not_embed_is_refused_naming_the_model_field(stack: Stack, admin: Credential) -> None:
    error = _openai_error(_embed(admin.secret, {"model": "sentiment", "input": "hello"}), 400)

    assert (error["param"], error["code"]) == ("model", None)
    assert "Model 'sentiment' does not make embeddings" in error["message"]


def test_a_body_over_the_size_limit_is_a_413_and_bad_json_a_400_in_openai_s_shape(
    stack: Stack, admin: Credential
) -> None:
    huge = json.dumps({"model": EMBEDDING_MODEL, "input": ["x" * 1000] * 1100}).encode()

    too_large = call("POST", "/v1/embeddings", raw_body=huge, headers=bearer(admin.secret))
    malformed = call("POST", "/v1/embeddings", raw_body=b'{"model": ', headers=bearer(admin.secret))

    error = _openai_error(too_large, 413)
    assert (error["type"], error["message"]) == ("invalid_request_error", "The request body is too large.")
    error = _openai_error(malformed, 400)
    assert (error["type"], error["param"]) == ("invalid_request_error", None)
    assert "not valid JSON" in error["message"]


def test_over_the_rate_limit_is_a_429_rate_limit_exceeded_with_retry_after(
    stack: Stack, mint: MintKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RATE_LIMIT_PER_SECOND", "0.5")
    monkeypatch.setenv("RATE_LIMIT_BURST", "1")
    reset()
    caller = mint("acme")
    _seed_tiny(caller.tenant)

    answers = [_embed(caller.secret, {"model": EMBEDDING_MODEL, "input": "hello"}) for _ in range(2)]

    assert answers[0]["statusCode"] == 200
    error = _openai_error(answers[1], 429)
    assert (error["type"], error["code"]) == ("requests", "rate_limit_exceeded")
    assert answers[1]["headers"]["retry-after"] == "2"


def test_a_model_that_cannot_be_served_is_a_503_server_error(stack: Stack, admin: Credential) -> None:
    _seed_tiny(admin.tenant)
    bucket = settings(BucketSettings).bucket_name
    [stored] = s3_client().list_objects_v2(Bucket=bucket, Prefix="artifacts/")["Contents"]
    s3_client().put_object(Bucket=bucket, Key=stored["Key"], Body=b"not the archive that was checked")

    response = _embed(admin.secret, {"model": EMBEDDING_MODEL, "input": "hello"})

    error = _openai_error(response, 503)
    assert (error["type"], error["code"]) == ("server_error", None)
    assert response["headers"]["retry-after"] == "5"


def test_an_unexpected_failure_is_a_500_server_error_naming_only_the_request_id(
    stack: Stack, admin: Credential, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr("functions.create_embeddings.app.embed", broken)

    response = _embed(admin.secret, {"model": EMBEDDING_MODEL, "input": "hello"})

    error = _openai_error(response, 500)
    assert (error["type"], error["param"], error["code"]) == ("server_error", None, None)
    assert "secret internals" not in error["message"]
    assert response["headers"]["x-request-id"] in error["message"]


def test_the_user_field_and_the_texts_are_never_logged(
    stack: Stack, admin: Credential, captured_logs: CapturedLogs
) -> None:
    _seed_tiny(admin.tenant)
    user = "end-user-7f3a9c"

    response = _embed(admin.secret, {"model": EMBEDDING_MODEL, "input": ["hello world"], "user": user})

    assert response["statusCode"] == 200
    assert captured_logs.records  # the invocation was logged
    assert user not in captured_logs.text
    assert "hello world" not in captured_logs.text


def test_an_answer_over_lambda_s_response_limit_is_a_400_that_says_how_to_get_one(
    stack: Stack, admin: Credential, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lambda returns at most 6 MB: 2,048 real (384-number) vectors as JSON floats pass it, so the function
    refuses with a way out rather than let Lambda drop the answer (the limit lowered here to the tiny model's)."""
    _seed_tiny(admin.tenant)
    monkeypatch.setattr(embeddings_app, "MAX_RESPONSE_BYTES", 4_000)
    texts = ["the cat"] * 40
    as_base64 = _embed(admin.secret, {"model": EMBEDDING_MODEL, "input": texts, "encoding_format": "base64"})

    error = _openai_error(_embed(admin.secret, {"model": EMBEDDING_MODEL, "input": texts}), 400)

    assert (error["type"], error["param"]) == ("invalid_request_error", "input")
    assert "bytes, over the 4,000 a function may return" in error["message"]
    assert "encoding_format 'base64'" in error["message"]
    assert as_base64["statusCode"] == 200, response_json(as_base64)
