"""Uploads, registering ONNX versions, sync and async predictions of them: the real handlers on moto.

The register function invokes the inspector function through the Lambda Invoke API (served in this
process by ``tools.local_lambda``), exactly as it does deployed.
"""

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from shared.adapters.clients import s3_client
from shared.settings import BucketSettings, settings
from shared.wiring import reset
from tests.conftest import Credential, MintKey
from tests.support.events import bearer, response_json
from tests.support.gateway import call
from tests.support.onnx_models import (
    IR_VERSION,
    OPSET,
    external_data_model,
    input_loop_model,
    linear_expected,
    linear_model,
    linear_schemas,
    loop_model,
    loop_schemas,
)
from tests.support.receiver import receiver
from tests.support.registry_flow import create_upload, put_file, register, store_unchecked_version, upload_file
from tests.support.timing import finishes_within
from tools.lambda_runtime import invoke_function
from tools.provision import Stack
from tools.sqs_events import lambda_event

W1 = [[1.0, 0.5], [-2.0, 0.25], [0.5, 3.0]]
B1 = [0.1, -0.2]
W2 = [[2.0, 0.0], [0.0, 2.0], [1.0, 1.0]]
B2 = [0.0, 1.0]
SCHEMAS = linear_schemas(3)
X = [1.5, -2.0, 4.0]


def _predict(secret: str, ref: str, payload: dict[str, Any]) -> dict[str, Any]:
    response: dict[str, Any] = call(
        "POST", f"/v1/models/{ref}/predict", body={"input": payload}, headers=bearer(secret)
    )
    return response


def _registered(secret: str, name: str, model: bytes) -> dict[str, Any]:
    response = register(secret, name, upload_file(secret, model), SCHEMAS, description="a linear model")
    assert response["statusCode"] == 201, response_json(response)
    body: dict[str, Any] = response_json(response)
    return body


def _run_worker(stack: Stack) -> dict[str, Any]:
    sqs = boto3.client("sqs")
    messages = sqs.receive_message(
        QueueUrl=stack.refs["PredictionsQueue"], MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages", [])
    result: dict[str, Any] = invoke_function(
        "RunPredictionsFunction", lambda_event([dict(m) for m in messages], stack.arns["PredictionsQueue"], "us-east-1")
    )
    return result


def test_a_registered_onnx_model_serves_sync_and_async_with_identical_outputs(stack: Stack, admin: Credential) -> None:
    model = linear_model(W1, B1)

    version = _registered(admin.secret, "linear", model)
    sync = _predict(admin.secret, "linear", {"x": X})
    created = response_json(
        call("POST", "/v1/predictions", body={"model": "linear", "input": {"x": X}}, headers=bearer(admin.secret))
    )
    assert _run_worker(stack) == {"batchItemFailures": []}
    finished = response_json(call("GET", f"/v1/predictions/{created['id']}", headers=bearer(admin.secret)))

    assert (version["version"], version["runtime"]) == (1, "onnx")
    assert version["artifact"] == {"sha256": hashlib.sha256(model).hexdigest(), "size": len(model)}
    assert sync["statusCode"] == 200
    body = response_json(sync)
    assert (body["model"], body["version"]) == ("linear", 1)
    assert body["output"]["y"] == pytest.approx(linear_expected(W1, B1, X), rel=1e-6)
    assert finished["status"] == "succeeded"
    assert finished["output"] == body["output"]


def test_versions_are_numbered_and_pinnable(stack: Stack, admin: Credential) -> None:
    first = _registered(admin.secret, "linear", linear_model(W1, B1))
    second = _registered(admin.secret, "linear", linear_model(W2, B2))

    latest = response_json(_predict(admin.secret, "linear", {"x": X}))
    pinned = response_json(_predict(admin.secret, "linear:1", {"x": X}))
    described = response_json(call("GET", "/v1/models/linear", headers=bearer(admin.secret)))
    missing = _predict(admin.secret, "linear:3", {"x": X})

    assert (first["version"], second["version"]) == (1, 2)
    assert (latest["version"], pinned["version"]) == (2, 1)
    assert latest["output"]["y"] == pytest.approx(linear_expected(W2, B2, X), rel=1e-6)
    assert pinned["output"]["y"] == pytest.approx(linear_expected(W1, B1, X), rel=1e-6)
    assert described["latest_version"] == 2
    assert described["description"] == "a linear model"
    assert [v["version"] for v in described["versions"]] == [1, 2]
    assert missing["statusCode"] == 404


def test_a_model_is_read_by_name_or_by_name_and_version(stack: Stack, admin: Credential) -> None:
    """`GET /v1/models/{ref}` takes what predict takes: `name`, or `name:version` for that version only."""
    _registered(admin.secret, "linear", linear_model(W1, B1))
    _registered(admin.secret, "linear", linear_model(W2, B2))

    whole = call("GET", "/v1/models/linear", headers=bearer(admin.secret))
    pinned = call("GET", "/v1/models/linear:1", headers=bearer(admin.secret))
    builtin = call("GET", "/v1/models/sentiment:1", headers=bearer(admin.secret))
    missing = call("GET", "/v1/models/linear:3", headers=bearer(admin.secret))

    assert [v["version"] for v in response_json(whole)["versions"]] == [1, 2]
    assert pinned["statusCode"] == 200
    assert {**response_json(pinned), "versions": None} == {**response_json(whole), "versions": None}
    assert response_json(pinned)["versions"] == response_json(whole)["versions"][:1]
    assert response_json(pinned)["latest_version"] == 2
    assert [v["version"] for v in response_json(builtin)["versions"]] == [1]
    _assert_refused(missing, 404, "not-found", None)
    assert response_json(missing)["detail"] == "There is no version 3 of model 'linear'."


def test_a_predict_key_cannot_create_a_model_artifact_upload(stack: Stack, mint: MintKey) -> None:
    """Only admin keys register versions, so a predict key's 100 MB artifact upload could never be used."""
    from shared.keys.models import Scope

    predictor = mint("acme", (Scope.PREDICT,))
    body = {"purpose": "model_artifact", "content_type": "application/octet-stream", "size": 100 * 1024 * 1024}

    refused = call("POST", "/v1/uploads", body=body, headers=bearer(predictor.secret))
    stored = boto3.client("dynamodb").query(
        TableName=stack.refs["Table"],
        KeyConditionExpression="PK = :pk AND begins_with(SK, :sk)",
        ExpressionAttributeValues={":pk": {"S": "TENANT#acme"}, ":sk": {"S": "UPLOAD#"}},
    )["Items"]
    batch_input = call(
        "POST",
        "/v1/uploads",
        body={"purpose": "batch_input", "content_type": "application/jsonl", "size": 10},
        headers=bearer(predictor.secret),
    )

    _assert_refused(refused, 403, "forbidden", None)
    assert response_json(refused)["detail"] == "This API key lacks the 'admin' scope."
    assert stored == []
    assert batch_input["statusCode"] == 201


def _nothing_registered(secret: str, name: str) -> None:
    assert call("GET", f"/v1/models/{name}", headers=bearer(secret))["statusCode"] == 404
    listed = response_json(call("GET", "/v1/models", headers=bearer(secret)))
    assert name not in [m["name"] for m in listed["results"]]


def _assert_refused(response: dict[str, Any], status: int, slug: str, pointer: str | None) -> None:
    body = response_json(response)
    assert response["statusCode"] == status, body
    assert body["type"] == f"urn:infergate:problem:{slug}"
    if pointer is not None:
        assert [e["pointer"] for e in body["errors"]] == [pointer]


def test_a_corrupt_file_is_refused_and_nothing_is_registered(stack: Stack, admin: Credential) -> None:
    upload_id = upload_file(admin.secret, os.urandom(2048))

    response = register(admin.secret, "broken", upload_id, SCHEMAS)

    _assert_refused(response, 422, "invalid-artifact", "/upload_id")
    assert "not a usable ONNX model" in response_json(response)["detail"]
    _nothing_registered(admin.secret, "broken")
    listed = s3_client().list_objects_v2(Bucket=settings(BucketSettings).bucket_name, Prefix="artifacts/")
    assert listed.get("KeyCount", 0) == 0


def test_a_batch_input_upload_is_not_a_model(stack: Stack, admin: Credential) -> None:
    upload_id = upload_file(admin.secret, b'{"custom_id": "1", "input": {}}\n', purpose="batch_input")

    response = register(admin.secret, "linear", upload_id, SCHEMAS)

    _assert_refused(response, 422, "unusable-upload", "/upload_id")
    _nothing_registered(admin.secret, "linear")


def test_an_upload_whose_file_never_arrived_is_refused(stack: Stack, admin: Credential) -> None:
    upload = create_upload(admin.secret, 1234)

    response = register(admin.secret, "linear", upload["id"], SCHEMAS)

    _assert_refused(response, 422, "unusable-upload", "/upload_id")
    assert "Nothing has been uploaded" in response_json(response)["detail"]
    _nothing_registered(admin.secret, "linear")


def test_a_file_of_another_size_than_declared_is_refused(stack: Stack, admin: Credential) -> None:
    model = linear_model(W1, B1)
    upload = create_upload(admin.secret, len(model) + 10)
    s3_client().put_object(
        Bucket=settings(BucketSettings).bucket_name,
        Key=f"uploads/acme/{upload['id']}",
        Body=model,
        ContentType="application/octet-stream",
    )

    response = register(admin.secret, "linear", upload["id"], SCHEMAS)

    _assert_refused(response, 422, "unusable-upload", "/upload_id")
    _nothing_registered(admin.secret, "linear")


def test_a_file_stored_with_another_content_type_is_refused(stack: Stack, admin: Credential) -> None:
    model = linear_model(W1, B1)
    upload = create_upload(admin.secret, len(model))
    s3_client().put_object(
        Bucket=settings(BucketSettings).bucket_name,
        Key=f"uploads/acme/{upload['id']}",
        Body=model,
        ContentType="text/html",
    )

    response = register(admin.secret, "linear", upload["id"], SCHEMAS)

    _assert_refused(response, 422, "unusable-upload", "/upload_id")
    _nothing_registered(admin.secret, "linear")


@pytest.mark.parametrize(
    ("body", "status", "slug", "pointer"),
    [
        ({"upload_id": "upl_01JD5YB4W3ZV0B4S8FZ7Q6N9XQ"}, 422, "unusable-upload", "/upload_id"),
        ({"upload_id": "not-an-id"}, 422, "unusable-upload", "/upload_id"),
        ({"input_schema": {"type": "object", "properties": {"x": {"type": 12}}}}, 422, "invalid-schema", None),
        ({"output_schema": {"type": "array"}}, 422, "invalid-schema", "/output_schema/type"),
        ({"runtime": "builtin"}, 422, "validation-failed", "/runtime"),
        ({"input_schema": "not a schema"}, 422, "validation-failed", "/input_schema"),
        ({"extra": True}, 422, "validation-failed", "/extra"),
    ],
)
def test_bad_registration_requests_are_refused_and_change_nothing(
    stack: Stack, admin: Credential, body: dict[str, Any], status: int, slug: str, pointer: str | None
) -> None:
    good: dict[str, Any] = {"runtime": "onnx", "upload_id": upload_file(admin.secret, linear_model(W1, B1))}
    good |= {"input_schema": SCHEMAS[0], "output_schema": SCHEMAS[1]}

    response = call("POST", "/v1/models/linear/versions", body={**good, **body}, headers=bearer(admin.secret))

    _assert_refused(response, status, slug, pointer)
    _nothing_registered(admin.secret, "linear")


def test_built_in_names_and_malformed_names_cannot_be_registered(stack: Stack, admin: Credential) -> None:
    upload_id = upload_file(admin.secret, linear_model(W1, B1))

    builtin = register(admin.secret, "iris", upload_id, SCHEMAS)
    malformed = register(admin.secret, "Not_A_Name", upload_id, SCHEMAS)

    _assert_refused(builtin, 409, "conflict", None)
    _assert_refused(malformed, 422, "invalid-request", "#/path/name")


def test_registering_needs_admin_and_models_stay_in_their_tenant(
    stack: Stack, admin: Credential, mint: MintKey
) -> None:
    from shared.keys.models import Scope

    predictor = mint("acme", (Scope.PREDICT,))
    other = mint("globex", (Scope.ADMIN,))
    _registered(admin.secret, "linear", linear_model(W1, B1))

    forbidden = register(predictor.secret, "mine", upload_file(admin.secret, linear_model(W1, B1)), SCHEMAS)
    foreign_upload = register(other.secret, "stolen", upload_file(admin.secret, linear_model(W1, B1)), SCHEMAS)

    assert forbidden["statusCode"] == 403
    assert _predict(predictor.secret, "linear", {"x": X})["statusCode"] == 200
    assert _predict(other.secret, "linear", {"x": X})["statusCode"] == 404
    assert call("GET", "/v1/models/linear", headers=bearer(other.secret))["statusCode"] == 404
    assert call("GET", "/v2/models/linear", headers=bearer(other.secret))["statusCode"] == 404
    _assert_refused(foreign_upload, 422, "unusable-upload", "/upload_id")
    created = call("POST", "/v1/predictions", body={"model": "linear", "input": {"x": X}}, headers=bearer(other.secret))
    assert created["statusCode"] == 422


def test_an_artifact_changed_after_registration_is_never_served(stack: Stack, admin: Credential) -> None:
    version = _registered(admin.secret, "linear", linear_model(W1, B1))
    key = f"artifacts/acme/linear/{version['artifact']['sha256']}.onnx"
    s3_client().put_object(Bucket=settings(BucketSettings).bucket_name, Key=key, Body=linear_model(W2, B2))
    created = response_json(
        call("POST", "/v1/predictions", body={"model": "linear", "input": {"x": X}}, headers=bearer(admin.secret))
    )

    sync = _predict(admin.secret, "linear", {"x": X})
    _run_worker(stack)
    finished = response_json(call("GET", f"/v1/predictions/{created['id']}", headers=bearer(admin.secret)))

    _assert_refused(sync, 503, "model-unavailable", None)
    assert finished["status"] == "failed"
    assert finished["error"]["code"] == "model_unavailable"


def test_a_second_put_to_the_upload_url_cannot_swap_the_registered_file(stack: Stack, admin: Credential) -> None:
    model = linear_model(W1, B1)
    upload = create_upload(admin.secret, len(model))
    put_file(upload, model)
    _registered_version = register(admin.secret, "linear", upload["id"], SCHEMAS)
    assert _registered_version["statusCode"] == 201

    put_file(upload, linear_model(W2, B2))  # same size, other weights, same still-valid URL
    served = response_json(_predict(admin.secret, "linear", {"x": X}))

    assert served["output"]["y"] == pytest.approx(linear_expected(W1, B1, X), rel=1e-6)


def test_sync_predict_validates_against_the_version_schema(stack: Stack, admin: Credential) -> None:
    _registered(admin.secret, "linear", linear_model(W1, B1))

    wrong = _predict(admin.secret, "linear", {"x": [1, 2]})
    echoed = _predict(admin.secret, "echo", {"anything": [1, "two"]})
    sentiment = _predict(admin.secret, "sentiment", {"text": ""})

    _assert_refused(wrong, 422, "invalid-model-input", "/input/x")
    assert response_json(echoed)["output"] == {"anything": [1, "two"]}
    _assert_refused(sentiment, 422, "invalid-model-input", "/input/text")


def test_two_registrations_racing_for_one_number_cannot_both_win(
    stack: Stack, admin: Credential, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.registry.models import NewVersion, VersionRaceError
    from shared.wiring import model_store

    first = _registered(admin.secret, "linear", linear_model(W1, B1))
    store = model_store()
    stale = store.get_version("acme", "linear", None)
    _registered(admin.secret, "linear", linear_model(W2, B2))  # takes number 2
    monkeypatch.setattr(store, "get_version", lambda *_: stale)  # a writer that read before that
    assert stale is not None
    new = NewVersion("linear", "onnx", {}, {}, "", stale.artifact, (), ())  # type: ignore[arg-type]

    with pytest.raises(VersionRaceError):
        store.add_version("acme", new, "2026-11-21T00:00:00.000Z")

    described = response_json(call("GET", "/v1/models/linear", headers=bearer(admin.secret)))
    assert [v["version"] for v in described["versions"]] == [first["version"], 2]


def _limit(monkeypatch: pytest.MonkeyPatch, name: str, seconds: float) -> None:
    """A short model-call time limit, so a test waits fractions of a second for a model that never ends."""
    monkeypatch.setenv(name, str(seconds))
    reset()


def _nothing_stored_under_artifacts() -> None:
    listed = s3_client().list_objects_v2(Bucket=settings(BucketSettings).bucket_name, Prefix="artifacts/")
    assert listed.get("KeyCount", 0) == 0


def test_a_model_that_never_finishes_is_refused_at_registration(
    stack: Stack, admin: Credential, monkeypatch: pytest.MonkeyPatch
) -> None:
    _limit(monkeypatch, "MODEL_REGISTRATION_SECONDS", 0.5)

    response = register(admin.secret, "spinner", upload_file(admin.secret, loop_model(10**12)), loop_schemas())

    _assert_refused(response, 422, "invalid-artifact", "/upload_id")
    detail = response_json(response)["detail"]
    assert "did not finish a run on a generated example" in detail
    assert "within 0.5 s" in detail
    _nothing_registered(admin.secret, "spinner")
    _nothing_stored_under_artifacts()


def test_a_model_that_fails_on_a_generated_example_is_refused(stack: Stack, admin: Credential) -> None:
    """Declares rows of any length but only works on rows of three: it cannot run on a generated example."""
    graph = helper.make_graph(
        [helper.make_node("Reshape", ["x", "rows_of_three"], ["y"])],
        "picky",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "n"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])],
        initializer=[numpy_helper.from_array(np.array([-1, 3], dtype=np.int64), "rows_of_three")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION)

    response = register(admin.secret, "picky", upload_file(admin.secret, model.SerializeToString()), SCHEMAS)

    _assert_refused(response, 422, "invalid-artifact", "/upload_id")
    assert "failed to run on a generated example" in response_json(response)["detail"]
    _nothing_registered(admin.secret, "picky")


@pytest.mark.parametrize("location", ["model.onnx", "weights.bin"])
def test_a_model_with_external_data_is_refused_at_registration(stack: Stack, admin: Credential, location: str) -> None:
    """``model.onnx`` is the name of the inspector's own copy: it loaded (reading itself as the weights),
    registered as ready, and then never loaded again under its digest's name (503 forever)."""
    upload_id = upload_file(admin.secret, external_data_model(location))

    response = register(admin.secret, "outside", upload_id, linear_schemas(1))

    _assert_refused(response, 422, "invalid-artifact", "/upload_id")
    assert "keeps tensor data in external files" in response_json(response)["detail"]
    _nothing_registered(admin.secret, "outside")
    _nothing_stored_under_artifacts()


def test_a_sync_prediction_past_the_time_limit_is_a_timeout_problem_and_stores_nothing(
    stack: Stack, admin: Credential, monkeypatch: pytest.MonkeyPatch
) -> None:
    _limit(monkeypatch, "MODEL_PREDICT_SECONDS", 0.5)
    registered = register(admin.secret, "spin", upload_file(admin.secret, input_loop_model()), loop_schemas())
    assert registered["statusCode"] == 201, response_json(registered)  # quick on the generated example
    tensor = {"name": "x", "shape": [1, 1], "datatype": "FP32", "data": [1e12]}

    slow = _predict(admin.secret, "spin", {"x": [1e12]})  # 10^12 trips of a Loop
    slow_infer = call("POST", "/v2/models/spin/infer", body={"inputs": [tensor]}, headers=bearer(admin.secret))
    quick = _predict(admin.secret, "spin", {"x": [2.0]})

    _assert_refused(slow, 422, "timeout", "/input")
    assert "did not finish within its time limit of 0.5 s" in response_json(slow)["detail"]
    assert slow["headers"]["content-type"] == "application/problem+json"
    assert slow_infer["statusCode"] == 422
    assert "time limit of 0.5 s" in response_json(slow_infer)["error"]
    assert response_json(quick)["output"] == {"y": [4.0]}  # the stopped session still serves
    listed = response_json(call("GET", "/v1/predictions", headers=bearer(admin.secret)))
    assert listed["results"] == []


# --- Hostile JSON Schemas (issue 14): nothing is fetched or opened, nothing is endless ---------------

PROBE_ONLY = {"required": ["probe_only_field"]}  # what a file: or http: reference would add if followed


def _hostile_schemas(url: str, probe_uri: str) -> list[tuple[str, dict[str, Any], str]]:
    """(case, input schema, pointer the refusal names) for schemas registration must refuse."""
    vector = SCHEMAS[0]["properties"]["x"]
    base: dict[str, Any] = {"type": "object", "properties": {"x": vector}}
    return [
        ("local file", {**base, "allOf": [{"$ref": probe_uri}]}, "/input_schema/allOf/0/$ref"),
        ("system file", {**base, "$ref": "file:///etc/passwd"}, "/input_schema/$ref"),
        ("loopback URL", {**base, "$ref": url}, "/input_schema/$ref"),
        ("dynamic URL", {**base, "properties": {"x": {"$dynamicRef": url}}}, "/input_schema/properties/x/$dynamicRef"),
        ("remote $id base", {**base, "$id": url, "properties": {"x": {"$ref": "s.json"}}}, "/input_schema/$id"),
        ("remote $schema", {**base, "$schema": url}, "/input_schema/$schema"),
        (
            "other draft inside",
            {**base, "properties": {"x": {"$schema": "http://json-schema.org/draft-07/schema#"}}},
            "/input_schema/properties/x/$schema",
        ),
        ("itself", {**base, "$ref": "#"}, "/input_schema/$ref"),
        (
            "cycle",
            {
                **base,
                "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"anyOf": [{"$ref": "#/$defs/a"}]}},
                "$ref": "#/$defs/a",
            },
            "/input_schema/$defs/b/anyOf/0/$ref",
        ),
        ("missing $defs", {**base, "properties": {"x": {"$ref": "#/$defs/nope"}}}, "/input_schema/properties/x/$ref"),
        ("not a subschema", {**base, "required": ["x"], "$ref": "#/required/0"}, "/input_schema/$ref"),
        ("backreference", {**base, "properties": {"t": {"pattern": "(a)\\1"}}}, "/input_schema/properties/t/pattern"),
        ("lookahead", {**base, "patternProperties": {"(?=x)": {}}}, "/input_schema/patternProperties/(?=x)"),
    ]


HOSTILE_CASES = [case for case, _, _ in _hostile_schemas("http://127.0.0.1:1/s.json", "file:///p.json")]


@pytest.mark.parametrize("case", HOSTILE_CASES)
def test_a_schema_that_leaves_its_document_or_cannot_be_evaluated_is_refused_and_nothing_is_fetched(
    stack: Stack, admin: Credential, tmp_path: Path, case: str
) -> None:
    probe = tmp_path / "probe.json"
    probe.write_text(json.dumps(PROBE_ONLY))
    with receiver() as listener:
        listener.get_body = json.dumps(PROBE_ONLY).encode()
        [(schema, pointer)] = [
            (schema, pointer)
            for name, schema, pointer in _hostile_schemas(f"{listener.url}/s.json", probe.as_uri())
            if name == case
        ]

        response = register(
            admin.secret, "linear", upload_file(admin.secret, linear_model(W1, B1)), (schema, SCHEMAS[1])
        )

        assert listener.requests == []
    _assert_refused(response, 422, "invalid-schema", pointer)
    _nothing_registered(admin.secret, "linear")


def test_an_output_schema_that_leaves_its_document_is_refused(stack: Stack, admin: Credential) -> None:
    output_schema = {"type": "object", "properties": {"y": {"$ref": "file:///etc/passwd"}}}

    response = register(
        admin.secret, "linear", upload_file(admin.secret, linear_model(W1, B1)), (SCHEMAS[0], output_schema)
    )

    _assert_refused(response, 422, "invalid-schema", "/output_schema/properties/y/$ref")
    _nothing_registered(admin.secret, "linear")


def _infer_v2(secret: str, ref: str, x: list[float]) -> dict[str, Any]:
    body = {"inputs": [{"name": "x", "shape": [1, len(x)], "datatype": "FP32", "data": x}]}
    response: dict[str, Any] = call("POST", f"/v2/models/{ref}/infer", body=body, headers=bearer(secret))
    return response


@pytest.mark.parametrize("case", ["local file", "system file", "loopback URL", "dynamic URL", "itself", "cycle"])
def test_a_version_stored_with_such_a_schema_fails_closed_on_every_route_and_fetches_nothing(
    stack: Stack, admin: Credential, tmp_path: Path, case: str
) -> None:
    probe = tmp_path / "probe.json"
    probe.write_text(json.dumps(PROBE_ONLY))
    _registered(admin.secret, "linear", linear_model(W1, B1))
    with receiver() as listener:
        listener.get_body = json.dumps(PROBE_ONLY).encode()
        [schema] = [s for name, s, _ in _hostile_schemas(f"{listener.url}/s.json", probe.as_uri()) if name == case]
        version = store_unchecked_version("acme", "linear", schema)

        sync = _predict(admin.secret, f"linear:{version}", {"x": X})
        created = call(
            "POST",
            "/v1/predictions",
            body={"model": f"linear:{version}", "input": {"x": X}},
            headers=bearer(admin.secret),
        )
        inferred = _infer_v2(admin.secret, f"linear/versions/{version}", X)

        assert listener.requests == []
    _assert_refused(sync, 422, "unusable-model-schema", "/input")
    assert f"version {version} of model 'linear'" in response_json(sync)["detail"]
    _assert_refused(created, 422, "unusable-model-schema", "/input")
    assert inferred["statusCode"] == 422
    assert "cannot be checked against the input schema" in response_json(inferred)["error"]
    assert response_json(_predict(admin.secret, "linear:1", {"x": X}))["version"] == 1  # the good version still serves


def test_a_catastrophic_pattern_is_matched_in_linear_time(stack: Stack, admin: Credential) -> None:
    schema = {**SCHEMAS[0], "properties": {**SCHEMAS[0]["properties"], "tag": {"type": "string", "pattern": "^(a+)+$"}}}
    registered = register(admin.secret, "linear", upload_file(admin.secret, linear_model(W1, B1)), (schema, SCHEMAS[1]))
    assert registered["statusCode"] == 201, response_json(registered)

    # Backtracking takes over a minute at 31 characters (four times longer with every two more); RE2 is linear.
    [refused, accepted] = finishes_within(
        10,
        lambda: _predict(admin.secret, "linear", {"x": X, "tag": "a" * 30 + "!"}),
        lambda: _predict(admin.secret, "linear", {"x": X, "tag": "a" * 100_000}),
    )

    _assert_refused(refused, 422, "invalid-model-input", "/input/tag")
    assert accepted["statusCode"] == 200, response_json(accepted)


# --- Evaluation charged for its real work; schemas and versions within DynamoDB's item (issue 14) ---


def _with_x(schema: dict[str, Any]) -> dict[str, Any]:
    """A hostile input schema that still takes the linear model's input ``x``."""
    return {**schema, "properties": {"x": SCHEMAS[0]["properties"]["x"], **schema.get("properties", {})}}


def _costly_evaluations() -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Registrable schemas each of which held the sync route for 30 s to minutes, with their input; each
    also takes ``{"x": X}``."""
    large_patterns = [{"pattern": f"a.{{0,{550 - i}}}b"} for i in range(300)]  # up to the 5,000-instruction cap
    many_patterns: dict[str, Any] = {f"^q{i}z$": {} for i in range(3_000)}
    long_enum = [*range(2, 10_002), 1, 1.5, -2]  # the hostile input's 1 is near the end
    return {
        "many large patterns": (
            _with_x({"type": "object", "properties": {"s": {"type": "string", "allOf": large_patterns}}}),
            {"x": X, "s": "a" * 100_000},
        ),
        "3,000 patternProperties": (
            _with_x({"type": "object", "patternProperties": many_patterns, "additionalProperties": False}),
            {"x": X, **{f"k{i}": 1 for i in range(10_000)}},
        ),
        "long enum": (
            {"type": "object", "properties": {"x": {"type": "array", "items": {"enum": long_enum}}}},
            {"x": [1] * 5_000},
        ),
    }


@pytest.mark.parametrize("case", list(_costly_evaluations()))
def test_a_schema_whose_evaluation_is_costly_inside_one_keyword_answers_unusable_model_schema(
    stack: Stack, admin: Credential, case: str
) -> None:
    schema, payload = _costly_evaluations()[case]
    registered = register(admin.secret, "linear", upload_file(admin.secret, linear_model(W1, B1)), (schema, SCHEMAS[1]))
    assert registered["statusCode"] == 201, response_json(registered)

    [refused] = finishes_within(60, lambda: _predict(admin.secret, "linear", payload))

    _assert_refused(refused, 422, "unusable-model-schema", "/input")
    # the step budget or, on a slow machine, the wall-clock net stops it first
    assert re.search("takes too (many steps|long)", response_json(refused)["detail"])
    assert response_json(_predict(admin.secret, "linear", {"x": X}))["output"]["y"] == pytest.approx(
        linear_expected(W1, B1, X), rel=1e-6
    )


def test_a_pattern_of_many_capturing_groups_answers_at_once(stack: Stack, admin: Credential) -> None:
    """1,600 capturing groups compile to under the instruction cap; tracking them made one 8 KB search 45 s."""
    groups = "^(?:" + "|".join(["(a)"] * 1600) + ")*$"
    schema = _with_x({"type": "object", "properties": {"s": {"type": "string", "pattern": groups}}})
    registered = register(admin.secret, "linear", upload_file(admin.secret, linear_model(W1, B1)), (schema, SCHEMAS[1]))
    assert registered["statusCode"] == 201, response_json(registered)

    [answered] = finishes_within(10, lambda: _predict(admin.secret, "linear", {"x": X, "s": "a" * 8000}))

    assert answered["statusCode"] == 200, response_json(answered)
    assert response_json(answered)["output"]["y"] == pytest.approx(linear_expected(W1, B1, X), rel=1e-6)


def test_a_pattern_whose_program_is_too_large_is_refused_with_the_real_reason(stack: Stack, admin: Credential) -> None:
    schema = _with_x({"type": "object", "properties": {"s": {"allOf": [{"pattern": "a.{0,999}b"}]}}})

    response = register(admin.secret, "linear", upload_file(admin.secret, linear_model(W1, B1)), (schema, SCHEMAS[1]))

    _assert_refused(response, 422, "invalid-schema", "/input_schema/properties/s/allOf/0/pattern")
    [error] = response_json(response)["errors"]
    assert "too large for RE2: it compiles to 8,997 instructions, at most 5,000" in error["detail"]
    assert "backreferences" not in error["detail"]
    _nothing_registered(admin.secret, "linear")


def _artifacts(tenant: str) -> list[str]:
    listed = s3_client().list_objects_v2(Bucket=settings(BucketSettings).bucket_name, Prefix=f"artifacts/{tenant}/")
    return [item["Key"] for item in listed.get("Contents", [])]


@pytest.mark.parametrize(
    ("schemas", "pointer"),
    [
        (({"type": "object", "description": "d" * 420_000}, SCHEMAS[1]), "/input_schema"),
        (
            (SCHEMAS[0], {"type": "object", "properties": {f"p{i}": {"type": "number"} for i in range(25_000)}}),
            "/output_schema",
        ),
    ],
    ids=["420 KB description", "25,000 properties"],
)
def test_a_schema_over_the_size_limit_is_refused_before_the_artifact_is_inspected(
    stack: Stack, admin: Credential, schemas: tuple[dict[str, Any], dict[str, Any]], pointer: str
) -> None:
    response = register(admin.secret, "linear", upload_file(admin.secret, linear_model(W1, B1)), schemas)

    _assert_refused(response, 422, "invalid-schema", pointer)
    [error] = response_json(response)["errors"]
    assert "a schema may have at most 65,536" in error["detail"]
    assert _artifacts("acme") == []  # the inspector, which stores the verified artifact, never ran
    _nothing_registered(admin.secret, "linear")


def _many_tensors_model(count: int, name_length: int) -> bytes:
    """``count`` inputs with long names, each passed through to an output."""
    names = [f"{i:04d}".ljust(name_length, "n") for i in range(count)]
    graph = helper.make_graph(
        [helper.make_node("Identity", [name], [f"out{name}"]) for name in names],
        "wide",
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", 1]) for name in names],
        [helper.make_tensor_value_info(f"out{name}", TensorProto.FLOAT, ["batch", 1]) for name in names],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION)
    serialized: bytes = model.SerializeToString()
    return serialized


def test_a_graph_whose_inputs_and_outputs_take_too_long_to_describe_is_refused(stack: Stack, admin: Credential) -> None:
    model = _many_tensors_model(300, 200)  # ~130 KB of tensor descriptions
    anything = {"type": "object"}

    response = register(admin.secret, "wide", upload_file(admin.secret, model), (anything, anything))

    _assert_refused(response, 422, "invalid-artifact", "/upload_id")
    assert "at most 65,536 are allowed" in response_json(response)["detail"]
    _nothing_registered(admin.secret, "wide")


def test_the_store_refuses_a_version_over_dynamodbs_item_limit_with_a_domain_error(stack: Stack) -> None:
    from shared.registry.models import Artifact, NewVersion, TensorSpec, VersionTooLargeError
    from shared.wiring import model_store

    new = NewVersion(
        name="huge",
        runtime="onnx",
        input_schema={"type": "object", "description": "d" * 420_000},
        output_schema={"type": "object"},
        description="",
        artifact=Artifact("0" * 64, 1, "artifacts/acme/huge/x.onnx"),
        inputs=(TensorSpec("x", "FP32", (-1, 3)),),
        outputs=(TensorSpec("y", "FP32", (-1, 2)),),
    )

    with pytest.raises(VersionTooLargeError, match="too large to store"):
        model_store().add_version("acme", new, "2026-11-21T00:00:00.000Z")

    assert model_store().get_model("acme", "huge") is None
