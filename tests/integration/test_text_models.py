"""Text models on moto: registered from an archive through the real upload and register handlers (the
inspector invoked through the Lambda Invoke API), then served by the sync route, the prediction worker and
batches, which must all give the same vector for the same text."""

import hashlib
import json
import tarfile
from typing import Any

import boto3
import pytest

from shared.adapters.clients import s3_client
from shared.settings import BucketSettings, settings
from tests.conftest import Credential
from tests.support import batch_queues
from tests.support.events import bearer, response_json
from tests.support.gateway import call
from tests.support.onnx_models import external_data_model, linear_model
from tests.support.registry_flow import create_upload, put_file
from tests.support.text_models import (
    DIM,
    LABELS,
    MAX_POSITIONS,
    config,
    expected_embedding,
    expected_scores,
    files,
    graph,
    tar_gz,
    tar_gz_entries,
    token_count,
    zip_archive,
)
from tools.lambda_runtime import invoke_function
from tools.provision import Stack
from tools.sqs_events import lambda_event

SENTENCE = "The cat sat on the mat."
UNICODE = "Über café: 日本語, naïve 😀 résumé"
LONG = "the cat sat on the mat " * 435  # 10,005 characters
TEXTS: list[dict[str, Any]] = [
    {"text": SENTENCE},
    {"text": UNICODE},
    {"text": ""},
    {"text": LONG, "truncate": True},
    {"text": "hello world " * 5},
]
EMBEDDING = {"task": "feature-extraction", "pooling": "mean"}


def _upload(secret: str, data: bytes, content_type: str = "application/gzip") -> str:
    upload = create_upload(secret, len(data), content_type=content_type)
    put_file(upload, data)
    return str(upload["id"])


def _register(secret: str, name: str, data: bytes, text: dict[str, Any], **extra: Any) -> dict[str, Any]:
    body = {"runtime": "text", "upload_id": _upload(secret, data), "text": text, **extra}
    response: dict[str, Any] = call("POST", f"/v1/models/{name}/versions", body=body, headers=bearer(secret))
    return response


def _registered(secret: str, name: str, data: bytes, text: dict[str, Any]) -> dict[str, Any]:
    response = _register(secret, name, data, text)
    assert response["statusCode"] == 201, response_json(response)
    body: dict[str, Any] = response_json(response)
    return body


def _predict(secret: str, name: str, payload: dict[str, Any]) -> dict[str, Any]:
    response: dict[str, Any] = call(
        "POST", f"/v1/models/{name}/predict", body={"input": payload}, headers=bearer(secret)
    )
    return response


def _async(stack: Stack, secret: str, name: str, payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Create the predictions, run the worker over them (micro-batched, up to ten a call), read them back."""
    ids = []
    for payload in payloads:
        created = call("POST", "/v1/predictions", body={"model": name, "input": payload}, headers=bearer(secret))
        assert created["statusCode"] == 201, response_json(created)
        ids.append(response_json(created)["id"])
    sqs = boto3.client("sqs")
    messages = sqs.receive_message(
        QueueUrl=stack.refs["PredictionsQueue"], MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages", [])
    assert len(messages) == len(payloads)
    event = lambda_event([dict(m) for m in messages], stack.arns["PredictionsQueue"], "us-east-1")
    assert invoke_function("RunPredictionsFunction", event) == {"batchItemFailures": []}
    return [response_json(call("GET", f"/v1/predictions/{pid}", headers=bearer(secret))) for pid in ids]


def _batch(stack: Stack, name: str, payloads: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    lines = [{"custom_id": f"t-{n}", "input": payload} for n, payload in enumerate(payloads)]
    batch_id = batch_queues.create(batch_queues.jsonl(lines), model=name)
    list(batch_queues.pump(stack, batch_id))
    outputs, errors = batch_queues.files(batch_id)
    return {row["custom_id"]: row for row in outputs + errors}


def _oip_embeddings(secret: str, name: str, texts: list[str]) -> list[list[float]]:
    """OIP infer on a BYTES ``text`` tensor (truncating: only the long text is cut), one FP32 row per text."""
    text = {"name": "text", "datatype": "BYTES", "shape": [len(texts)], "data": texts}
    body = {"inputs": [text], "parameters": {"truncate": True}}
    response = call("POST", f"/v2/models/{name}/infer", body=body, headers=bearer(secret))
    assert response["statusCode"] == 200, response_json(response)
    [embedding] = [o for o in response_json(response)["outputs"] if o["name"] == "embedding"]
    assert (embedding["datatype"], embedding["shape"]) == ("FP32", [len(texts), DIM])
    data: list[float] = embedding["data"]
    return [data[n * DIM : (n + 1) * DIM] for n in range(len(texts))]


def _refused(response: dict[str, Any], status: int, slug: str, pointer: str) -> dict[str, Any]:
    body: dict[str, Any] = response_json(response)
    assert response["statusCode"] == status, body
    assert body["type"] == f"urn:infergate:problem:{slug}"
    assert [error["pointer"] for error in body["errors"]] == [pointer]
    return body


def _nothing_registered(secret: str, name: str) -> None:
    assert call("GET", f"/v1/models/{name}", headers=bearer(secret))["statusCode"] == 404
    stored = s3_client().list_objects_v2(Bucket=settings(BucketSettings).bucket_name, Prefix="artifacts/")
    assert stored.get("KeyCount", 0) == 0


def test_an_embedding_model_from_a_tar_gz_gives_the_same_vectors_on_every_path(stack: Stack, admin: Credential) -> None:
    archive = tar_gz(files())
    version = _registered(admin.secret, "tiny-embed", archive, EMBEDDING)

    sync = [response_json(_predict(admin.secret, "tiny-embed", payload)) for payload in TEXTS]
    finished = _async(stack, admin.secret, "tiny-embed", TEXTS)
    batched = _batch(stack, "tiny-embed", TEXTS)
    oip = _oip_embeddings(admin.secret, "tiny-embed", [payload["text"] for payload in TEXTS])

    assert (version["version"], version["runtime"]) == (1, "text")
    assert version["artifact"] == {"sha256": hashlib.sha256(archive).hexdigest(), "size": len(archive)}
    assert version["text"] == {
        "task": "feature-extraction",
        "max_tokens": MAX_POSITIONS,
        "dimension": DIM,
        "pooling": "mean",
        "normalize": False,
        "activation": None,
        "top_k": None,
        "labels": None,
    }
    assert version["input_schema"]["required"] == ["text"]
    for n, payload in enumerate(TEXTS):
        want = expected_embedding(payload["text"], truncate=payload.get("truncate", False))
        tokens = min(token_count(payload["text"]), MAX_POSITIONS)
        assert sync[n]["output"]["embedding"] == pytest.approx(want, abs=1e-6)
        assert sync[n]["output"]["tokens"] == tokens
        assert finished[n]["status"] == "succeeded"
        assert finished[n]["output"]["embedding"] == pytest.approx(sync[n]["output"]["embedding"], abs=1e-6)
        assert finished[n]["output"]["tokens"] == tokens
        assert batched[f"t-{n}"]["output"]["embedding"] == pytest.approx(sync[n]["output"]["embedding"], abs=1e-6)
        assert batched[f"t-{n}"]["output"]["tokens"] == tokens
        assert oip[n] == pytest.approx(sync[n]["output"]["embedding"], abs=1e-6)


def test_the_registry_shows_a_text_model_in_lists_and_by_name(stack: Stack, admin: Credential) -> None:
    _registered(admin.secret, "tiny-embed", tar_gz(files()), {**EMBEDDING, "pooling": "cls", "normalize": True})
    _registered(
        admin.secret, "tiny-classes", zip_archive(files("text-classification")), {"task": "text-classification"}
    )

    listed = {m["name"]: m for m in response_json(call("GET", "/v1/models", headers=bearer(admin.secret)))["results"]}
    named = response_json(call("GET", "/v1/models/tiny-classes", headers=bearer(admin.secret)))

    embedder = listed["tiny-embed"]["versions"][0]["text"]
    assert (embedder["dimension"], embedder["pooling"], embedder["normalize"]) == (DIM, "cls", True)
    assert named["versions"][0]["runtime"] == "text"
    assert named["versions"][0]["text"] == {
        "task": "text-classification",
        "max_tokens": MAX_POSITIONS,
        "dimension": None,
        "pooling": None,
        "normalize": None,
        "activation": "softmax",
        "top_k": 1,
        "labels": list(LABELS),
    }
    assert listed["sentiment"]["versions"][0]["text"] is None


def test_a_classifier_from_a_zip_ranks_its_labels_on_every_path(stack: Stack, admin: Credential) -> None:
    _registered(
        admin.secret, "tiny-classes", zip_archive(files("text-classification")), {"task": "text-classification"}
    )
    payloads: list[dict[str, Any]] = [{"text": SENTENCE, "top_k": 3}, {"text": UNICODE}]

    sync = [response_json(_predict(admin.secret, "tiny-classes", payload))["output"] for payload in payloads]
    finished = [done["output"] for done in _async(stack, admin.secret, "tiny-classes", payloads)]
    too_many = _predict(admin.secret, "tiny-classes", {"text": SENTENCE, "top_k": 4})

    scores = expected_scores(SENTENCE)
    assert [entry["label"] for entry in sync[0]["labels"]] == sorted(LABELS, key=lambda label: -scores[label])
    assert {e["label"]: e["score"] for e in sync[0]["labels"]} == pytest.approx(scores, abs=1e-6)
    assert len(sync[1]["labels"]) == 1
    assert finished == sync
    _refused(too_many, 422, "invalid-model-input", "/input/top_k")


def test_a_text_over_the_limit_is_refused_naming_it_unless_the_request_truncates(
    stack: Stack, admin: Credential
) -> None:
    _registered(admin.secret, "tiny-embed", tar_gz(files()), EMBEDDING)

    refused = _predict(admin.secret, "tiny-embed", {"text": LONG})
    truncated = _predict(admin.secret, "tiny-embed", {"text": LONG, "truncate": True})
    [failed] = _async(stack, admin.secret, "tiny-embed", [{"text": LONG}])

    detail = _refused(refused, 422, "prediction-failed", "/input")["detail"]
    assert f"The text is {token_count(LONG):,} tokens long; this model takes at most {MAX_POSITIONS}." in detail
    assert "truncate: true" in detail
    assert response_json(truncated)["output"]["tokens"] == MAX_POSITIONS
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "input_too_long"
    assert f"at most {MAX_POSITIONS}" in failed["error"]["message"]


def test_an_archive_changed_after_registration_is_never_served(stack: Stack, admin: Credential) -> None:
    """Even a change that keeps the archive valid and its size (the gzip header's timestamp) is caught."""
    archive = tar_gz(files())
    version = _registered(admin.secret, "tiny-embed", archive, EMBEDDING)
    key = f"artifacts/acme/tiny-embed/{version['artifact']['sha256']}.tar.gz"
    bucket = settings(BucketSettings).bucket_name
    assert s3_client().head_object(Bucket=bucket, Key=key)["ContentType"] == "application/gzip"
    restamped = archive[:4] + bytes(4) + archive[8:]  # MTIME: outside the CRC, so still a valid archive
    assert restamped != archive
    s3_client().put_object(Bucket=bucket, Key=key, Body=restamped)

    served = _predict(admin.secret, "tiny-embed", {"text": SENTENCE})

    assert served["statusCode"] == 503
    assert response_json(served)["type"] == "urn:infergate:problem:model-unavailable"


def _link(name: str, kind: bytes) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = "/etc/passwd"
    return info, None


def _member(name: str, content: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(content)
    return info, content


def _entries(*extra: tuple[tarfile.TarInfo, bytes | None]) -> bytes:
    return tar_gz_entries([*(_member(name, content) for name, content in files().items()), *extra])


def _without(name: str, task: str = "feature-extraction") -> dict[str, bytes]:
    members = files(task)
    del members[name]
    return members


HOSTILE = {
    "traversal": (_entries(_member("../../evil.json", b"{}")), "climbs out of the archive"),
    "absolute": (_entries(_member("/tmp/evil.json", b"{}")), "absolute or non-portable path"),
    "symlink": (_entries(_link("vocab.txt", tarfile.SYMTYPE)), "is a link"),
    "hardlink": (_entries(_link("vocab.txt", tarfile.LNKTYPE)), "is a link"),
    "device": (_entries(_link("vocab.txt", tarfile.CHRTYPE)), "device or special file"),
    "duplicate": (_entries(_member("./model.onnx", b"x")), "'model.onnx' appears twice"),
    "unexpected": (_entries(_member("handler.py", b"import os")), "'handler.py' is not part of a text model"),
    "bomb": (tar_gz({**files(), "vocab.txt": bytes(12 * 1024 * 1024)}), "decompression bomb"),
    "not an archive": (linear_model([[1.0]], [0.0]), "neither a .tar.gz nor a .zip archive"),
    "no tokenizer": (tar_gz(_without("tokenizer.json")), "holds no tokenizer.json"),
    "no graph": (zip_archive(_without("model.onnx")), "holds no ONNX graph"),
    "external data": (tar_gz({**files(), "model.onnx": external_data_model()}), "external files"),
    "graph inputs": (tar_gz({**files(), "model.onnx": linear_model([[1.0]], [0.0])}), "takes input 'x'"),
    "wrong output": (tar_gz({**files(), "model.onnx": graph("text-classification")}), "no single float output"),
    "bad tokenizer": (tar_gz({**files(), "tokenizer.json": b'{"model": 1}'}), "library can load"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_an_unusable_or_hostile_archive_is_refused_and_nothing_is_kept(
    stack: Stack, admin: Credential, case: str
) -> None:
    data, reason = HOSTILE[case]

    response = _register(admin.secret, "tiny", data, EMBEDDING)

    body = _refused(response, 422, "invalid-artifact", "/upload_id")
    assert body["detail"].startswith("The uploaded file is not a usable text model archive: ")
    assert reason in body["detail"]
    _nothing_registered(admin.secret, "tiny")


CLASSIFIER_REFUSALS = {
    "no config": (_without("config.json", "text-classification"), "needs config.json"),
    "width": (
        {**files("text-classification"), "config.json": json.dumps(config("text-classification", ("a", "b"))).encode()},
        "has 3 columns, but config.json id2label names 2 labels",
    ),
}


@pytest.mark.parametrize("case", sorted(CLASSIFIER_REFUSALS))
def test_a_classifier_whose_labels_do_not_fit_is_refused(stack: Stack, admin: Credential, case: str) -> None:
    members, reason = CLASSIFIER_REFUSALS[case]

    response = _register(admin.secret, "tiny", zip_archive(members), {"task": "text-classification"})

    assert reason in _refused(response, 422, "invalid-artifact", "/upload_id")["detail"]
    _nothing_registered(admin.secret, "tiny")


@pytest.mark.parametrize(
    ("body", "slug", "pointer"),
    [
        ({"input_schema": {"type": "object"}}, "invalid-request", "/input_schema"),
        ({"text": None}, "invalid-request", "/text"),
        ({"text": {"task": "summarization"}}, "validation-failed", "/text/task"),
        ({"text": {"task": "feature-extraction", "pooling": "max"}}, "validation-failed", "/text/pooling"),
        ({"text": {"task": "feature-extraction", "max_tokens": 9000}}, "validation-failed", "/text/max_tokens"),
        ({"runtime": "onnx"}, "invalid-request", "/input_schema"),
    ],
)
def test_a_request_that_does_not_fit_its_runtime_is_refused(
    stack: Stack, admin: Credential, body: dict[str, Any], slug: str, pointer: str
) -> None:
    request = {"runtime": "text", "upload_id": _upload(admin.secret, tar_gz(files())), "text": EMBEDDING, **body}

    response = call("POST", "/v1/models/tiny/versions", body=request, headers=bearer(admin.secret))

    _refused(response, 422, slug, pointer)
    _nothing_registered(admin.secret, "tiny")


def test_an_onnx_version_cannot_carry_text_options(stack: Stack, admin: Credential) -> None:
    model = linear_model([[1.0]], [0.0])
    schemas = {"input_schema": {"type": "object"}, "output_schema": {"type": "object"}}
    request = {"runtime": "onnx", "upload_id": _upload(admin.secret, model, "application/octet-stream"), **schemas}

    response = call(
        "POST", "/v1/models/tiny/versions", body={**request, "text": EMBEDDING}, headers=bearer(admin.secret)
    )

    _refused(response, 422, "invalid-request", "/text")
