"""The committed OpenAPI document is the one the routers generate, and it describes the contract."""

import json
from pathlib import Path

from tools.openapi import render
from tools.template import ROOT

COMMITTED = ROOT / "openapi.json"


def test_committed_openapi_matches_the_code() -> None:
    generated = render()

    assert json.loads(Path(COMMITTED).read_text(encoding="utf-8")) == json.loads(generated), (
        "openapi.json is stale: run `make openapi` and commit it"
    )


OPEN_PATHS = {"/v1/health", "/v2/health/live", "/v2/health/ready"}


def test_every_operation_documents_its_problems_and_auth() -> None:
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))

    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if path in OPEN_PATHS:
                assert "security" not in operation
                continue
            assert operation["security"] == [{"HTTPBearer": []}], (method, path)
            assert "401" in operation["responses"], (method, path)
            assert "403" in operation["responses"], (method, path)
            error = operation["responses"]["401"]["content"]
            if path.startswith("/v2"):  # the Open Inference Protocol keeps its own error shape
                assert error == {"application/json": {"schema": {"$ref": "#/components/schemas/OipError"}}}
            else:
                assert "application/problem+json" in error, (method, path)


def test_the_documented_surface_is_the_contracts() -> None:
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))

    operations = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}

    assert operations == {
        ("GET", "/v1/health"),
        ("POST", "/v1/keys"),
        ("GET", "/v1/keys"),
        ("DELETE", "/v1/keys/{key_id}"),
        ("GET", "/v1/models"),
        ("GET", "/v1/models/{name}"),
        ("POST", "/v1/models/{name}/versions"),
        ("POST", "/v1/models/{name}/predict"),
        ("POST", "/v1/uploads"),
        ("GET", "/v2/health/live"),
        ("GET", "/v2/health/ready"),
        ("GET", "/v2"),
        ("GET", "/v2/models/{model_name}"),
        ("GET", "/v2/models/{model_name}/versions/{model_version}"),
        ("GET", "/v2/models/{model_name}/ready"),
        ("GET", "/v2/models/{model_name}/versions/{model_version}/ready"),
        ("POST", "/v2/models/{model_name}/infer"),
        ("POST", "/v2/models/{model_name}/versions/{model_version}/infer"),
        ("POST", "/v1/predictions"),
        ("GET", "/v1/predictions"),
        ("GET", "/v1/predictions/{prediction_id}"),
        ("POST", "/v1/predictions/{prediction_id}/cancel"),
        ("GET", "/v1/predictions/{prediction_id}/webhook-deliveries"),
        ("GET", "/v1/webhooks/secret"),
        ("POST", "/v1/webhooks/secret/rotate"),
        ("POST", "/v1/batches"),
        ("GET", "/v1/batches"),
        ("GET", "/v1/batches/{batch_id}"),
        ("POST", "/v1/batches/{batch_id}/cancel"),
    }
