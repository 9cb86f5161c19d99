"""The Open Inference Protocol routes through their handlers: shapes, versions, and the OIP error body."""

import base64
import json
import struct
from typing import Any

import pytest

from tests.conftest import Credential
from tests.support.events import bearer, response_json
from tests.support.gateway import call

IRIS_ROW = {"name": "features", "datatype": "FP32", "shape": [1, 4], "data": [5.1, 3.5, 1.4, 0.2]}


def _infer(secret: str | None, path: str, body: Any = None, raw: bytes | None = None, **headers: str) -> Any:
    auth = bearer(secret) if secret else {}
    return call("POST", path, body=body, raw_body=raw, headers={**auth, **headers})


def test_infer_json_tensors_for_each_built_in(admin: Credential) -> None:
    sentiment = _infer(
        admin.secret,
        "/v2/models/sentiment/infer",
        {"id": "r1", "inputs": [{"name": "text", "datatype": "BYTES", "shape": [2], "data": ["love it", "hate it"]}]},
    )
    echo = _infer(
        admin.secret,
        "/v2/models/echo/versions/1/infer",
        {"inputs": [{"name": "n", "datatype": "INT64", "shape": [2, 2], "data": [1, 2, 3, 4]}]},
    )
    iris = _infer(admin.secret, "/v2/models/iris/infer", {"inputs": [IRIS_ROW], "outputs": [{"name": "probabilities"}]})

    body = response_json(sentiment)
    assert (sentiment["statusCode"], body["id"], body["model_version"]) == (200, "r1", "1")
    outputs = {o["name"]: o for o in body["outputs"]}
    assert outputs["label"] == {"name": "label", "datatype": "BYTES", "shape": [2], "data": ["positive", "negative"]}
    assert outputs["compound"]["datatype"] == "FP32"
    assert response_json(echo)["outputs"] == [{"name": "n", "datatype": "INT64", "shape": [2, 2], "data": [1, 2, 3, 4]}]
    [probabilities] = response_json(iris)["outputs"]
    assert (probabilities["name"], probabilities["shape"]) == ("probabilities", [1, 3])
    assert sum(probabilities["data"]) == pytest.approx(1.0, abs=1e-5)


def test_binary_tensors_come_back_binary_through_api_gateway(admin: Credential) -> None:
    header = json.dumps(
        {
            "inputs": [
                {"name": "features", "datatype": "FP32", "shape": [1, 4], "parameters": {"binary_data_size": 16}}
            ],
            "parameters": {"binary_data_output": True},
        }
    ).encode()
    body = header + struct.pack("<4f", 5.1, 3.5, 1.4, 0.2)

    response = _infer(
        admin.secret, "/v2/models/iris/infer", raw=body, **{"inference-header-content-length": str(len(header))}
    )

    assert response["statusCode"] == 200
    assert response["isBase64Encoded"] is True  # binary for API Gateway
    raw = base64.b64decode(response["body"])
    length = int(response["headers"]["inference-header-content-length"])
    document = json.loads(raw[:length])
    label, probabilities = document["outputs"]
    assert label["parameters"]["binary_data_size"] == 4 + len("setosa")
    assert raw[length : length + 10] == struct.pack("<I", 6) + b"setosa"
    assert probabilities["parameters"]["binary_data_size"] == 12


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("POST", "/v2/models/iris/infer", {"raw": b"not json"}, 400),
        ("POST", "/v2/models/iris/infer", {"body": {"inputs": [{**IRIS_ROW, "datatype": "FP99"}]}}, 400),
        ("POST", "/v2/models/iris/infer", {"body": {"inputs": [{**IRIS_ROW, "shape": [2, 4]}]}}, 400),
        ("POST", "/v2/models/iris/infer", {"body": {"inputs": [IRIS_ROW], "outputs": [{"name": "nope"}]}}, 400),
        (
            "POST",
            "/v2/models/iris/infer",
            {"body": {"inputs": [{**IRIS_ROW, "shape": [1, 3], "data": [1, 2, 3]}]}},
            422,
        ),
        ("POST", "/v2/models/iris/infer", {"raw": b"{}", "content-encoding": "gzip"}, 400),
        ("POST", "/v2/models/nope/infer", {"body": {"inputs": [IRIS_ROW]}}, 404),
        ("POST", "/v2/models/iris/versions/2/infer", {"body": {"inputs": [IRIS_ROW]}}, 404),
        ("GET", "/v2/models/nope", {}, 404),
        ("GET", "/v2/models/iris/versions/one", {}, 404),
        ("GET", "/v2/models/iris/versions/0/ready", {}, 404),
        ("GET", "/v2/nothing-here", {}, 404),
        ("DELETE", "/v2/models/iris", {}, 405),
        ("POST", "/v2/models/iris/infer", {"raw": b"x" * (1024 * 1024 + 1)}, 413),
        # A malformed name or version, however long, names nothing: 404, never a 400 for its length.
        ("GET", "/v2/models/" + "a" * 200, {}, 404),
        ("GET", "/v2/models/" + "a" * 200 + "/ready", {}, 404),
        ("GET", "/v2/models/iris/versions/" + "1" * 17, {}, 404),
        ("POST", "/v2/models/" + "a" * 200 + "/infer", {"body": {"inputs": [IRIS_ROW]}}, 404),
    ],
)
def test_oip_errors_keep_the_oip_shape(
    admin: Credential, method: str, path: str, kwargs: dict[str, Any], status: int
) -> None:
    headers = {k: v for k, v in kwargs.items() if k not in ("raw", "body")}
    response = call(
        method,
        path,
        body=kwargs.get("body"),
        raw_body=kwargs.get("raw"),
        headers={**bearer(admin.secret), **headers},
    )

    assert response["statusCode"] == status, response
    assert response["headers"]["content-type"] == "application/json"
    body = response_json(response)
    assert list(body) == ["error"]
    assert isinstance(body["error"], str)
    assert body["error"]
    assert "x" * 50 not in body["error"]


@pytest.mark.parametrize(
    "path",
    ["/v2/models/sentiment/versions/0", "/v2/models/sentiment/versions/one/ready", "/v2/models/iris/versions/00"],
)
def test_a_version_that_is_not_a_number_is_a_missing_version_not_a_missing_model(admin: Credential, path: str) -> None:
    response = call("GET", path, headers=bearer(admin.secret))

    assert response["statusCode"] == 404
    model = path.split("/")[3]
    assert response_json(response) == {
        "error": f"There is no such version of model '{model}' (versions are numbered from 1)."
    }


def test_a_duplicate_key_in_an_infer_request_is_refused(admin: Credential) -> None:
    row = json.dumps(IRIS_ROW).encode()
    raw = b'{"inputs": [' + row[:-1] + b', "datatype": "BYTES"}]}'

    response = _infer(admin.secret, "/v2/models/iris/infer", raw=raw)

    assert response["statusCode"] == 400
    assert response_json(response) == {
        "error": 'The request\'s JSON header is not valid JSON: the key "datatype" appears more than once in one '
        "object (at /inputs/0/datatype)."
    }


def test_oip_auth_errors_keep_the_oip_shape(stack: object) -> None:
    unauthenticated = call("GET", "/v2/models/iris")
    wrong_key = call("GET", "/v2", headers=bearer("igk_" + "a" * 43))
    open_routes = [call("GET", path) for path in ("/v2/health/live", "/v2/health/ready")]

    assert unauthenticated["statusCode"] == 401
    assert list(response_json(unauthenticated)) == ["error"]
    assert wrong_key["statusCode"] == 401
    assert [r["statusCode"] for r in open_routes] == [200, 200]
