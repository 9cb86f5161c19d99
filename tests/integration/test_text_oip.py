"""Text models over the Open Inference Protocol, on moto: registered from an archive through the real handlers,
then described by OIP metadata (declared tensors) and served by OIP infer with a BYTES ``text`` input, in JSON
and in Triton's binary tensor extension, with refusals in the OIP error shape."""

import base64
import gzip
import json
import struct
from typing import Any

import pytest

from shared.inference.service import InferenceService
from shared.oip import tensors
from shared.registry.text import MAX_TEXTS
from tests.conftest import Credential
from tests.support.events import bearer, response_json
from tests.support.gateway import call
from tests.support.registry_flow import create_upload, put_file
from tests.support.text_models import (
    DIM,
    LABELS,
    MAX_POSITIONS,
    expected_embedding,
    expected_scores,
    files,
    tar_gz,
    token_count,
    zip_archive,
)
from tools.provision import Stack

TEXTS = ["The cat sat on the mat.", "Über café: 日本語, naïve 😀 résumé", "", "hello world " * 5]
LONG = "the cat sat on the mat " * 435  # 10,005 characters


def _registered(secret: str, name: str, data: bytes, task: str) -> None:
    upload = create_upload(secret, len(data), content_type="application/gzip")
    put_file(upload, data)
    body = {"runtime": "text", "upload_id": upload["id"], "text": {"task": task}}
    response = call("POST", f"/v1/models/{name}/versions", body=body, headers=bearer(secret))
    assert response["statusCode"] == 201, response_json(response)


@pytest.fixture
def embedder(stack: Stack, admin: Credential) -> str:
    _registered(admin.secret, "tiny-embed", tar_gz(files()), "feature-extraction")
    return "tiny-embed"


@pytest.fixture
def classifier(stack: Stack, admin: Credential) -> str:
    _registered(admin.secret, "tiny-classes", zip_archive(files("text-classification")), "text-classification")
    return "tiny-classes"


def _texts(texts: list[str]) -> dict[str, Any]:
    return {"name": "text", "datatype": "BYTES", "shape": [len(texts)], "data": texts}


def _infer(secret: str, name: str, body: Any = None, raw: bytes | None = None, **headers: str) -> dict[str, Any]:
    return call("POST", f"/v2/models/{name}/infer", body=body, raw_body=raw, headers={**bearer(secret), **headers})


def _outputs(response: dict[str, Any]) -> dict[str, dict[str, Any]]:
    assert response["statusCode"] == 200, response_json(response)
    return {output["name"]: output for output in response_json(response)["outputs"]}


def _refusal(response: dict[str, Any], status: int) -> str:
    body = response_json(response)
    assert response["statusCode"] == status, body
    assert response["headers"]["content-type"] == "application/json"
    assert list(body) == ["error"]
    message: str = body["error"]
    return message


def _binary_request(texts: list[bytes], **parameters: Any) -> tuple[bytes, str]:
    blob = b"".join(struct.pack("<I", len(text)) + text for text in texts)
    text = {"name": "text", "datatype": "BYTES", "shape": [len(texts)], "parameters": {"binary_data_size": len(blob)}}
    header = json.dumps({"inputs": [text], "parameters": {"binary_data_output": True, **parameters}}).encode()
    return header + blob, str(len(header))


def test_metadata_declares_a_text_models_tensors(embedder: str, classifier: str, admin: Credential) -> None:
    embedding = response_json(call("GET", f"/v2/models/{embedder}", headers=bearer(admin.secret)))
    classes = response_json(call("GET", f"/v2/models/{classifier}/versions/1", headers=bearer(admin.secret)))

    text = [{"name": "text", "datatype": "BYTES", "shape": [-1]}]
    tokens = {"name": "tokens", "datatype": "INT64", "shape": [-1]}
    assert (embedding["platform"], embedding["inputs"]) == ("infergate_text", text)
    assert embedding["outputs"] == [{"name": "embedding", "datatype": "FP32", "shape": [-1, DIM]}, tokens]
    assert classes["inputs"] == text
    assert classes["outputs"] == [
        {"name": "scores", "datatype": "FP32", "shape": [-1, len(LABELS)]},
        {"name": "labels", "datatype": "BYTES", "shape": [-1, len(LABELS)]},
        tokens,
    ]


def test_json_infer_embeds_each_text_as_fp32_like_the_sync_route(embedder: str, admin: Credential) -> None:
    response = _infer(admin.secret, embedder, {"id": "r1", "inputs": [_texts(TEXTS)]})
    sync = [
        response_json(
            call("POST", f"/v1/models/{embedder}/predict", body={"input": {"text": t}}, headers=bearer(admin.secret))
        )
        for t in TEXTS
    ]

    outputs = _outputs(response)
    assert response_json(response)["id"] == "r1"
    assert (outputs["embedding"]["datatype"], outputs["embedding"]["shape"]) == ("FP32", [len(TEXTS), DIM])
    assert outputs["tokens"] == {
        "name": "tokens",
        "datatype": "INT64",
        "shape": [len(TEXTS)],
        "data": [token_count(t) for t in TEXTS],
    }
    rows = [outputs["embedding"]["data"][n * DIM : (n + 1) * DIM] for n in range(len(TEXTS))]
    for n, text in enumerate(TEXTS):
        assert rows[n] == pytest.approx(expected_embedding(text), abs=1e-6)
        assert rows[n] == pytest.approx(sync[n]["output"]["embedding"], abs=1e-6)
        assert rows[n] == [struct.unpack("<f", struct.pack("<f", v))[0] for v in rows[n]]  # float32 values


def test_binary_infer_takes_length_prefixed_utf8_and_answers_binary_fp32_and_int64(
    embedder: str, admin: Credential
) -> None:
    body, length = _binary_request([text.encode() for text in [*TEXTS, LONG]], truncate=True)

    response = _infer(admin.secret, embedder, raw=body, **{"inference-header-content-length": length})

    assert response["statusCode"] == 200, response
    raw = base64.b64decode(response["body"])
    size = int(response["headers"]["inference-header-content-length"])
    embedding, tokens = json.loads(raw[:size])["outputs"]
    count = len(TEXTS) + 1
    assert (embedding["name"], embedding["datatype"], embedding["shape"]) == ("embedding", "FP32", [count, DIM])
    assert (tokens["name"], tokens["datatype"], tokens["shape"]) == ("tokens", "INT64", [count])
    assert embedding["parameters"]["binary_data_size"] == count * DIM * 4
    vectors = struct.unpack(f"<{count * DIM}f", raw[size : size + count * DIM * 4])
    counts = struct.unpack(f"<{count}q", raw[size + count * DIM * 4 :])
    for n, text in enumerate([*TEXTS, LONG]):
        want = expected_embedding(text, truncate=True)
        assert list(vectors[n * DIM : (n + 1) * DIM]) == pytest.approx(want, abs=1e-6)
    assert list(counts) == [*(token_count(t) for t in TEXTS), MAX_POSITIONS]


def test_a_classifier_answers_every_labels_score_in_label_order(classifier: str, admin: Credential) -> None:
    response = _infer(admin.secret, classifier, {"inputs": [_texts(TEXTS[:2])]})

    outputs = _outputs(response)
    assert outputs["labels"] == {"name": "labels", "datatype": "BYTES", "shape": [2, 3], "data": [*LABELS, *LABELS]}
    assert (outputs["scores"]["datatype"], outputs["scores"]["shape"]) == ("FP32", [2, len(LABELS)])
    for n, text in enumerate(TEXTS[:2]):
        expected = expected_scores(text)
        row = outputs["scores"]["data"][n * len(LABELS) : (n + 1) * len(LABELS)]
        assert row == pytest.approx([expected[label] for label in LABELS], abs=1e-6)


def test_a_text_over_the_limit_is_a_422_naming_it_unless_the_request_parameter_truncates(
    embedder: str, admin: Credential
) -> None:
    refused = _infer(admin.secret, embedder, {"inputs": [_texts([TEXTS[0], LONG])]})
    truncated = _infer(admin.secret, embedder, {"inputs": [_texts([TEXTS[0], LONG])], "parameters": {"truncate": True}})

    message = _refusal(refused, 422)
    assert f"The text is {token_count(LONG):,} tokens long; this model takes at most {MAX_POSITIONS}." in message
    assert "/inputs/1" in message
    assert _outputs(truncated)["tokens"]["data"] == [token_count(TEXTS[0]), MAX_POSITIONS]


REFUSALS: dict[str, tuple[dict[str, Any], str]] = {
    "lone surrogate": (
        {"inputs": [_texts(["\udc80"])]},
        "Input 'text' holds a string that is not valid Unicode (a lone surrogate).",
    ),
    "not a string": (
        {"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": [7]}]},
        "Input 'text' holds a value that is not a string (BYTES takes strings).",
    ),
    "wrong datatype": (
        {"inputs": [{"name": "text", "datatype": "INT64", "shape": [1], "data": [7]}]},
        "Input 'text' is INT64; the model takes BYTES.",
    ),
    "wrong shape": (
        {"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1, 1], "data": ["a"]}]},
        "Input 'text' has shape [1, 1], which does not match the model's declared [-1].",
    ),
    "unknown input": (
        {"inputs": [{"name": "sentence", "datatype": "BYTES", "shape": [1], "data": ["a"]}]},
        "The model has no input 'sentence'; it takes 'text'.",
    ),
    "truncate tensor": (
        {"inputs": [_texts(["a"]), {"name": "truncate", "datatype": "BOOL", "shape": [1], "data": [True]}]},
        "Send 'truncate' as a request parameter, not as an input tensor.",
    ),
    "truncate parameter": (
        {"inputs": [_texts(["a"])], "parameters": {"truncate": "yes"}},
        "The request's parameter 'truncate' must be true or false.",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_a_malformed_text_request_is_a_400_in_the_oip_shape(embedder: str, admin: Credential, case: str) -> None:
    body, message = REFUSALS[case]

    response = _infer(admin.secret, embedder, body)

    assert _refusal(response, 400) == message


def test_binary_text_that_is_not_utf8_is_a_400_naming_the_input(embedder: str, admin: Credential) -> None:
    body, length = _binary_request([b"fine", b"caf\xe9"])

    response = _infer(admin.secret, embedder, raw=body, **{"inference-header-content-length": length})

    assert _refusal(response, 400) == "Input 'text' has a BYTES element that is not valid UTF-8."


def test_more_texts_than_the_embeddings_limit_are_refused_before_any_is_run(
    embedder: str, admin: Credential, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(*_: object, **__: object) -> None:
        raise AssertionError("a refused request must not reach the model")

    many = [""] * (MAX_TEXTS + 1)
    compressed = gzip.compress(json.dumps({"inputs": [_texts(many)]}).encode())
    binary, length = _binary_request([b""] * (MAX_TEXTS + 1))
    at_limit = _infer(admin.secret, embedder, {"inputs": [_texts(["a"] * MAX_TEXTS)]})
    monkeypatch.setattr(InferenceService, "run", never)

    as_json = _infer(
        admin.secret, embedder, raw=compressed, **{"content-type": "application/json", "content-encoding": "gzip"}
    )
    as_binary = _infer(admin.secret, embedder, raw=binary, **{"inference-header-content-length": length})

    assert _outputs(at_limit)["tokens"]["shape"] == [MAX_TEXTS]
    expected = f"Input 'text' may hold at most {MAX_TEXTS} texts; this request has {MAX_TEXTS + 1}."
    assert _refusal(as_json, 400) == expected
    assert _refusal(as_binary, 400) == expected


def test_outputs_too_large_for_a_tensor_are_a_400_in_the_oip_shape(
    embedder: str, admin: Credential, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tensors, "MAX_ELEMENTS", 3 * DIM - 1)  # the input's 3 elements fit; its 3 x DIM floats do not

    response = _infer(admin.secret, embedder, {"inputs": [_texts(["a", "b", "c"])]})

    assert _refusal(response, 400) == (
        f"Output 'embedding' has a shape too large; its non-zero dimensions may hold at most {3 * DIM - 1}."
    )
