"""The committed OpenAPI document is the one the routers generate, and it describes the contract."""

import json
from pathlib import Path

from shared.api.openai_errors import is_openai_path
from tools.openapi import render
from tools.template import ROOT, load_template

COMMITTED = ROOT / "openapi.json"


def test_committed_openapi_matches_the_code() -> None:
    generated = render()

    assert json.loads(Path(COMMITTED).read_text(encoding="utf-8")) == json.loads(generated), (
        "openapi.json is stale: run `make openapi` and commit it"
    )


# Routes whose function does not hold the caller policy (no key to read): they document no auth.
OPEN_PATHS = {
    route.path
    for spec in load_template().functions
    if {"Ref": "ApiCallerPolicy"} not in spec.managed_policy_arns
    for route in spec.routes
}


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
            elif is_openai_path(path):  # so do the OpenAI-compatible routes, OpenAI's
                assert error == {"application/json": {"schema": {"$ref": "#/components/schemas/OpenAiError"}}}
            else:
                assert "application/problem+json" in error, (method, path)


def test_the_document_describes_every_route_of_the_template_and_no_other() -> None:
    """The HTTP API's routes (``template.yaml``, as SAM translates it) are the documented operations."""
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))

    operations = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}

    routes = {(route.method, route.path) for spec in load_template().functions for route in spec.routes}
    assert operations == routes
