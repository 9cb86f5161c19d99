"""The model registry and synchronous inference over the local stack, with real HTTP clients.

The upload's presigned URL is PUT to the moto server over HTTP, the register function reaches the
inspector function through the local Lambda Invoke API, and the Open Inference Protocol routes are
driven by NVIDIA's own ``tritonclient.http``.
"""

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import tritonclient.http as triton
from sklearn.datasets import load_iris
from tritonclient.utils import InferenceServerException

from tests.e2e.conftest import LocalStack, running_stack
from tests.support import batch_flow, text_models
from tests.support.onnx_models import (
    external_data_model,
    input_loop_model,
    linear_expected,
    linear_model,
    linear_schemas,
    loop_model,
    loop_schemas,
)
from tests.support.receiver import receiver
from tools.build_iris_model import train_classifier

pytestmark = pytest.mark.e2e

W1 = [[1.0, 0.5], [-2.0, 0.25], [0.5, 3.0], [0.0, 1.0]]
B1 = [0.1, -0.2]
W2 = [[0.5, 0.0], [0.0, 0.5], [1.0, 1.0], [2.0, 0.0]]
B2 = [1.0, 1.0]
X = [1.5, -2.0, 4.0, 0.5]


def _upload(client: httpx.Client, data: bytes) -> str:
    upload = client.post(
        "/v1/uploads", json={"purpose": "model_artifact", "content_type": "application/octet-stream", "size": len(data)}
    )
    assert upload.status_code == 201, upload.text
    body = upload.json()
    put = httpx.put(body["url"], content=data, headers=body["headers"], timeout=30)  # straight to S3 (moto)
    assert put.status_code == 200, put.text
    return str(body["id"])


def _register(
    client: httpx.Client, name: str, data: bytes, input_schema: dict[str, Any] | None = None
) -> httpx.Response:
    default_input, output_schema = linear_schemas(4)
    input_schema = default_input if input_schema is None else input_schema
    body = {"runtime": "onnx", "upload_id": _upload(client, data), "input_schema": input_schema}
    return client.post(f"/v1/models/{name}/versions", json={**body, "output_schema": output_schema})


@pytest.fixture(scope="module")
def admin(local_stack: LocalStack) -> httpx.Client:
    return local_stack.client(local_stack.admin_key)


@pytest.fixture(scope="module")
def triton_client(local_stack: LocalStack) -> Any:
    return triton.InferenceServerClient(url=local_stack.base_url.removeprefix("http://"), network_timeout=60)


@pytest.fixture
def auth(local_stack: LocalStack) -> dict[str, str]:
    # A fresh dict per test: tritonclient writes Inference-Header-Content-Length into the dict it is given.
    return {"Authorization": f"Bearer {local_stack.admin_key}"}


def test_a_model_generated_here_is_registered_and_served_sync_and_async(admin: httpx.Client) -> None:
    model = linear_model(W1, B1)

    first = _register(admin, "e2e-linear", model)
    second = _register(admin, "e2e-linear", linear_model(W2, B2))
    latest = admin.post("/v1/models/e2e-linear/predict", json={"input": {"x": X}})
    pinned = admin.post("/v1/models/e2e-linear:1/predict", json={"input": {"x": X}})
    queued = admin.post(
        "/v1/predictions", json={"model": "e2e-linear:1", "input": {"x": X}}, headers={"Prefer": "wait=20"}
    )

    assert (first.status_code, second.status_code) == (201, 201), (first.text, second.text)
    assert (first.json()["version"], second.json()["version"]) == (1, 2)
    assert first.json()["artifact"] == {"sha256": hashlib.sha256(model).hexdigest(), "size": len(model)}
    assert latest.json()["version"] == 2
    assert latest.json()["output"]["y"] == pytest.approx(linear_expected(W2, B2, X), rel=1e-6)
    assert pinned.json()["version"] == 1
    assert pinned.json()["output"]["y"] == pytest.approx(linear_expected(W1, B1, X), rel=1e-6)
    assert queued.json()["status"] == "succeeded", queued.text
    assert queued.json()["output"] == pinned.json()["output"]  # the same bits both ways


def test_a_text_model_archive_is_registered_and_embeds_alike_sync_async_and_in_a_batch(admin: httpx.Client) -> None:
    archive = text_models.zip_archive(text_models.files())
    upload = admin.post(
        "/v1/uploads", json={"purpose": "model_artifact", "content_type": "application/zip", "size": len(archive)}
    )
    assert upload.status_code == 201, upload.text
    assert httpx.put(upload.json()["url"], content=archive, headers=upload.json()["headers"], timeout=30).is_success
    texts: list[dict[str, Any]] = [
        {"text": "The cat sat on the mat."},
        {"text": "日本語 über café 😀"},
        {"text": "dog " * 3000, "truncate": True},
    ]

    version = admin.post(
        "/v1/models/e2e-text/versions",
        json={"runtime": "text", "upload_id": upload.json()["id"], "text": {"task": "feature-extraction"}},
    )
    sync = [admin.post("/v1/models/e2e-text/predict", json={"input": text}) for text in texts]
    queued = [
        admin.post("/v1/predictions", json={"model": "e2e-text", "input": text}, headers={"Prefer": "wait=20"})
        for text in texts
    ]
    lines = [{"custom_id": str(n), "input": text} for n, text in enumerate(texts)]
    batch = batch_flow.create(admin, batch_flow.jsonl(lines), model="e2e-text")
    final = batch_flow.watch(admin, batch["id"])[-1]
    batched = {row["custom_id"]: row["output"] for row in batch_flow.download(final["output_url"])}
    too_long = admin.post("/v1/models/e2e-text/predict", json={"input": {"text": "dog " * 3000}})

    assert version.status_code == 201, version.text
    assert version.json()["text"]["dimension"] == text_models.DIM
    for n, text in enumerate(texts):
        assert sync[n].status_code == 200, sync[n].text
        want = text_models.expected_embedding(text["text"], truncate=bool(text.get("truncate")))
        output = sync[n].json()["output"]
        assert output["embedding"] == pytest.approx(want, abs=1e-6)
        assert queued[n].json()["status"] == "succeeded", queued[n].text
        assert queued[n].json()["output"]["embedding"] == pytest.approx(output["embedding"], abs=1e-6)
        assert batched[str(n)]["embedding"] == pytest.approx(output["embedding"], abs=1e-6)
        assert queued[n].json()["output"]["tokens"] == batched[str(n)]["tokens"] == output["tokens"]
    assert final["status"] == "completed"
    assert too_long.status_code == 422
    assert f"at most {text_models.MAX_POSITIONS}" in too_long.json()["detail"]


def test_a_corrupt_model_file_is_refused_over_http(admin: httpx.Client) -> None:
    refused = _register(admin, "e2e-corrupt", os.urandom(4096))

    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "urn:infergate:problem:invalid-artifact"
    assert admin.get("/v1/models/e2e-corrupt").status_code == 404


@pytest.mark.parametrize("reference", ["loopback", "file"])
def test_a_schema_referring_outside_itself_is_refused_and_nothing_is_fetched(
    admin: httpx.Client, tmp_path: Path, reference: str
) -> None:
    probe = tmp_path / "probe.json"
    probe.write_text(json.dumps({"required": ["probe_only_field"]}))
    with receiver() as listener:
        listener.get_body = probe.read_bytes()
        target = f"{listener.url}/s.json" if reference == "loopback" else probe.as_uri()
        schema = {"type": "object", "allOf": [{"$ref": target}], "properties": {"x": {"type": "array"}}}

        refused = _register(admin, "e2e-hostile", linear_model(W1, B1), schema)

        assert listener.requests == []
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "urn:infergate:problem:invalid-schema"
    assert refused.json()["errors"][0]["pointer"] == "/input_schema/allOf/0/$ref"
    assert admin.get("/v1/models/e2e-hostile").status_code == 404


def test_a_catastrophic_pattern_is_matched_in_linear_time_over_http(admin: httpx.Client) -> None:
    schema = {"type": "object", "properties": {"x": {"type": "array"}, "tag": {"type": "string", "pattern": "^(a+)+$"}}}
    registered = _register(admin, "e2e-pattern", linear_model(W1, B1), schema)
    assert registered.status_code == 201, registered.text

    # Python's backtracking re takes over a minute on 31 characters; RE2 is linear.
    refused = admin.post("/v1/models/e2e-pattern/predict", json={"input": {"x": X, "tag": "a" * 30 + "!"}}, timeout=10)

    assert refused.status_code == 422, refused.text
    assert refused.json()["type"] == "urn:infergate:problem:invalid-model-input"
    assert [e["pointer"] for e in refused.json()["errors"]] == ["/input/tag"]


def test_tritonclient_health_and_metadata(triton_client: Any, auth: dict[str, str]) -> None:
    assert triton_client.is_server_live()
    assert triton_client.is_server_ready()
    assert triton_client.is_model_ready("iris", headers=auth)
    assert triton_client.is_model_ready("sentiment", model_version="1", headers=auth)
    assert not triton_client.is_model_ready("no-such-model", headers=auth)
    assert not triton_client.is_model_ready("iris")  # no key: 401

    server = triton_client.get_server_metadata(headers=auth)
    iris = triton_client.get_model_metadata("iris", headers=auth)
    sentiment = triton_client.get_model_metadata("sentiment", model_version="1", headers=auth)

    assert server["name"] == "infergate"
    assert iris["inputs"] == [{"name": "features", "datatype": "FP32", "shape": [-1, 4]}]
    assert [o["name"] for o in iris["outputs"]] == ["label", "probabilities"]
    assert sentiment["inputs"] == [{"name": "text", "datatype": "BYTES", "shape": [-1]}]
    with pytest.raises(InferenceServerException) as missing:
        triton_client.get_model_metadata("no-such-model", headers=auth)
    assert missing.value.status() == "404"


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_tritonclient_iris_on_the_whole_dataset_equals_scikit_learn(
    triton_client: Any, auth: dict[str, str], binary: bool
) -> None:
    data = load_iris().data.astype(np.float32)
    features = triton.InferInput("features", list(data.shape), "FP32")
    features.set_data_from_numpy(data, binary_data=binary)
    outputs = [triton.InferRequestedOutput(name, binary_data=binary) for name in ("label", "probabilities")]

    result = triton_client.infer("iris", [features], outputs=outputs, headers=auth, request_id="iris-all")

    classifier = train_classifier()
    labels = [v.decode() if isinstance(v, bytes) else v for v in result.as_numpy("label")]
    assert labels == list(classifier.predict(load_iris().data))
    assert result.as_numpy("probabilities") == pytest.approx(classifier.predict_proba(load_iris().data), abs=1e-5)
    assert result.get_response()["id"] == "iris-all"


def test_tritonclient_sentiment_with_default_binary_tensors(triton_client: Any, auth: dict[str, str]) -> None:
    texts = np.array(["I love this!", "This is awful.", "It is a table."], dtype=np.object_)
    text = triton.InferInput("text", [3], "BYTES")
    text.set_data_from_numpy(texts)

    result = triton_client.infer("sentiment", [text], headers=auth)

    assert [v.decode() for v in result.as_numpy("label")] == ["positive", "negative", "neutral"]
    assert result.as_numpy("compound").dtype == np.float32
    assert result.get_response()["model_version"] == "1"


def test_tritonclient_errors_keep_the_oip_shape(triton_client: Any, auth: dict[str, str]) -> None:
    wrong = triton.InferInput("features", [1, 3], "FP32")
    wrong.set_data_from_numpy(np.zeros((1, 3), dtype=np.float32))

    with pytest.raises(InferenceServerException) as invalid:
        triton_client.infer("iris", [wrong], headers=dict(auth))
    with pytest.raises(InferenceServerException) as unauthenticated:
        triton_client.infer("iris", [wrong])

    assert invalid.value.status() == "422"
    assert "features" in invalid.value.message()
    assert unauthenticated.value.status() == "401"


def test_oip_and_v1_predict_agree_on_iris(admin: httpx.Client, local_stack: LocalStack) -> None:
    row = [6.7, 3.0, 5.2, 2.3]
    v1 = admin.post("/v1/models/iris/predict", json={"input": {"features": row}}).json()
    v2 = admin.post(
        "/v2/models/iris/versions/1/infer",
        json={
            "inputs": [{"name": "features", "datatype": "FP32", "shape": [1, 4], "data": row}],
            "outputs": [{"name": "label"}],
        },
    ).json()

    assert v2["outputs"] == [{"name": "label", "datatype": "BYTES", "shape": [1], "data": [v1["output"]["label"]]}]
    assert (v2["model_name"], v2["model_version"]) == ("iris", "1")


@pytest.mark.parametrize("algorithm", ["gzip", "deflate"])
def test_tritonclient_compressed_requests(triton_client: Any, auth: dict[str, str], algorithm: str) -> None:
    features = triton.InferInput("features", [2, 4], "FP32")
    features.set_data_from_numpy(np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]], dtype=np.float32))

    result = triton_client.infer("iris", [features], headers=auth, request_compression_algorithm=algorithm)

    assert [v.decode() for v in result.as_numpy("label")] == ["setosa", "virginica"]


def _text_model(admin: httpx.Client, name: str, task: str) -> str:
    archive = text_models.zip_archive(text_models.files(task))
    registered = admin.post(
        f"/v1/models/{name}/versions",
        json={"runtime": "text", "upload_id": _upload(admin, archive), "text": {"task": task}},
    )
    assert registered.status_code == 201, registered.text
    return name


@pytest.fixture(scope="module")
def oip_embedder(admin: httpx.Client) -> str:
    return _text_model(admin, "e2e-text-oip", "feature-extraction")


OIP_TEXTS = ["The cat sat on the mat.", "日本語 über café 😀"]


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_tritonclient_embeds_bytes_text_like_the_sync_route(
    triton_client: Any, auth: dict[str, str], admin: httpx.Client, oip_embedder: str, binary: bool
) -> None:
    text = triton.InferInput("text", [2], "BYTES")
    text.set_data_from_numpy(np.array(OIP_TEXTS, dtype=np.object_), binary_data=binary)
    outputs = [triton.InferRequestedOutput(name, binary_data=binary) for name in ("embedding", "tokens")]

    metadata = triton_client.get_model_metadata(oip_embedder, headers=auth)
    result = triton_client.infer(oip_embedder, [text], outputs=outputs, headers=auth)
    sync = [admin.post(f"/v1/models/{oip_embedder}/predict", json={"input": {"text": t}}).json() for t in OIP_TEXTS]

    assert metadata["inputs"] == [{"name": "text", "datatype": "BYTES", "shape": [-1]}]
    embedding = result.as_numpy("embedding")
    assert (embedding.dtype, embedding.shape) == (np.float32, (2, text_models.DIM))
    assert result.as_numpy("tokens").dtype == np.int64
    for n, want in enumerate(sync):
        assert embedding[n].tolist() == pytest.approx(want["output"]["embedding"], abs=1e-6)
        assert int(result.as_numpy("tokens")[n]) == want["output"]["tokens"]


def test_tritonclient_truncates_by_request_parameter_and_sees_the_limit_otherwise(
    triton_client: Any, auth: dict[str, str], oip_embedder: str
) -> None:
    text = triton.InferInput("text", [1], "BYTES")
    text.set_data_from_numpy(np.array(["dog " * 3000], dtype=np.object_))

    truncated = triton_client.infer(oip_embedder, [text], headers=dict(auth), parameters={"truncate": True})
    with pytest.raises(InferenceServerException) as refused:
        triton_client.infer(oip_embedder, [text], headers=dict(auth))

    assert truncated.as_numpy("tokens").tolist() == [text_models.MAX_POSITIONS]
    assert refused.value.status() == "422"
    assert f"at most {text_models.MAX_POSITIONS}" in refused.value.message()


def test_tritonclient_reads_a_classifiers_scores_in_label_order(
    triton_client: Any, auth: dict[str, str], admin: httpx.Client
) -> None:
    name = _text_model(admin, "e2e-text-classes", "text-classification")
    text = triton.InferInput("text", [2], "BYTES")
    text.set_data_from_numpy(np.array(OIP_TEXTS, dtype=np.object_))

    result = triton_client.infer(name, [text], headers=auth)

    labels, scores = result.as_numpy("labels"), result.as_numpy("scores")
    assert [[label.decode() for label in row] for row in labels] == [list(text_models.LABELS)] * 2
    for n, sentence in enumerate(OIP_TEXTS):
        expected = text_models.expected_scores(sentence)
        assert scores[n].tolist() == pytest.approx([expected[label] for label in text_models.LABELS], abs=1e-6)


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """A local stack whose model calls may run one second, so endless models are stopped quickly."""
    limits = {"MODEL_PREDICT_SECONDS": "1", "MODEL_REGISTRATION_SECONDS": "1", "MODEL_WORKER_SECONDS": "1"}
    with running_stack(tmp_path_factory.mktemp("limited"), limits) as stack, stack.client(stack.admin_key) as client:
        yield client


def _register_with(client: httpx.Client, name: str, data: bytes, schemas: tuple[Any, Any]) -> httpx.Response:
    body = {"runtime": "onnx", "upload_id": _upload(client, data), "input_schema": schemas[0]}
    return client.post(f"/v1/models/{name}/versions", json={**body, "output_schema": schemas[1]})


def test_an_endless_model_and_one_with_external_data_are_refused_at_registration(limited: httpx.Client) -> None:
    endless = _register_with(limited, "e2e-endless", loop_model(10**12), loop_schemas())
    external = _register_with(limited, "e2e-external", external_data_model("model.onnx"), linear_schemas(1))

    for refused in (endless, external):
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["type"] == "urn:infergate:problem:invalid-artifact"
    assert "did not finish a run on a generated example" in endless.json()["detail"]
    assert endless.json()["detail"].endswith("within 1 s")
    assert "keeps tensor data in external files" in external.json()["detail"]
    assert limited.get("/v1/models/e2e-endless").status_code == 404
    assert limited.get("/v1/models/e2e-external").status_code == 404


def test_a_slow_input_is_stopped_sync_and_async(limited: httpx.Client) -> None:
    """Registered (quick on the generated example), then 10^12 trips of its Loop on a large input."""
    registered = _register_with(limited, "e2e-spin", input_loop_model(), loop_schemas())

    sync = limited.post("/v1/models/e2e-spin/predict", json={"input": {"x": [1e12]}})
    queued = limited.post(
        "/v1/predictions", json={"model": "e2e-spin", "input": {"x": [1e12]}}, headers={"Prefer": "wait=20"}
    )
    quick = limited.post("/v1/models/e2e-spin/predict", json={"input": {"x": [2.0]}})

    assert registered.status_code == 201, registered.text
    assert sync.status_code == 422, sync.text
    assert sync.headers["content-type"] == "application/problem+json"
    assert sync.json()["type"] == "urn:infergate:problem:timeout"
    assert "did not finish within its time limit of 1 s" in sync.json()["detail"]
    assert queued.json()["status"] == "failed", queued.text
    assert queued.json()["error"]["code"] == "timeout"
    assert quick.json()["output"] == {"y": [4.0]}
