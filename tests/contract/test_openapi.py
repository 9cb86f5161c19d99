"""The committed OpenAPI document is the one the routers generate, and it describes the contract."""

import json
import re
from pathlib import Path
from typing import Any

from annotated_types import Le
from openapi_spec_validator import OpenAPIV31SpecValidator, validate

from shared.api.openai_errors import is_openai_path
from shared.kernel.outbox import EventType
from shared.settings import ApiSettings
from tools.openapi import render
from tools.template import ROOT, load_template

COMMITTED = ROOT / "openapi.json"


class _AnyText(str):
    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and bool(other)

    __hash__ = str.__hash__


ANY_TEXT = _AnyText()


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


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, ops in document["paths"].items() for method, op in ops.items()]


DOCUMENT: dict[str, Any] = json.loads(COMMITTED.read_text(encoding="utf-8"))


def test_every_operation_documents_its_problems_and_auth() -> None:
    for method, path, operation in _operations(DOCUMENT):
        if path in OPEN_PATHS:
            assert operation["security"] == [], (method, path)
            continue
        assert operation["security"] == [{"ApiKey": []}, {"Jwt": []}], (method, path)
        assert "401" in operation["responses"], (method, path)
        assert "403" in operation["responses"], (method, path)
        assert "429" in operation["responses"], (method, path)


def test_the_bearer_schemes_are_the_api_key_and_the_issuers_token() -> None:
    assert DOCUMENT["components"]["securitySchemes"] == {
        "ApiKey": {"type": "http", "scheme": "bearer", "bearerFormat": "igk_...", "description": ANY_TEXT},
        "Jwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": ANY_TEXT},
    }


def test_errors_are_documented_in_the_shape_each_route_answers() -> None:
    """Problem documents only as ``application/problem+json``; ``/v2`` and the OpenAI routes their own JSON."""
    for method, path, operation in _operations(DOCUMENT):
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            if path.startswith("/v2"):
                expected = {"application/json": {"schema": {"$ref": "#/components/schemas/OipError"}}}
            elif is_openai_path(path):
                expected = {"application/json": {"schema": {"$ref": "#/components/schemas/OpenAiError"}}}
            else:
                expected = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
            assert response["content"] == expected, (method, path, status)


def test_no_operation_documents_fastapis_validation_error() -> None:
    """The service answers a bad parameter 400 and a bad body 422 (400 in OpenAI's dialect), never FastAPI's."""
    assert "HTTPValidationError" not in COMMITTED.read_text(encoding="utf-8")
    assert "ValidationError" not in DOCUMENT["components"]["schemas"]


def _validated(parameter: dict[str, Any]) -> bool:
    """Whether FastAPI can refuse a value of the parameter (anything but an unconstrained string)."""
    schema = {k: v for k, v in parameter["schema"].items() if k not in {"title", "description", "examples"}}
    return schema not in ({"type": "string"}, {"anyOf": [{"type": "string"}, {"type": "null"}]})


def test_operations_that_validate_parameters_document_the_400() -> None:
    for method, path, operation in _operations(DOCUMENT):
        if any(_validated(parameter) for parameter in operation.get("parameters", [])):
            assert "400" in operation["responses"], (method, path)


def test_operation_ids_are_unique_camel_case() -> None:
    ids = [operation["operationId"] for _, _, operation in _operations(DOCUMENT)]
    ids += [operation["operationId"] for event in DOCUMENT["webhooks"].values() for operation in event.values()]

    assert len(ids) == len(set(ids))
    assert [i for i in ids if not re.fullmatch(r"[a-z]+(?:[A-Z0-9][a-z0-9]*)*", i)] == []
    assert DOCUMENT["paths"]["/v1/predictions"]["post"]["operationId"] == "createPrediction"


def test_every_operation_has_exactly_one_declared_tag() -> None:
    declared = [tag["name"] for tag in DOCUMENT["tags"]]
    used = {operation["tags"][0] for _, _, operation in _operations(DOCUMENT)}

    assert all(len(operation["tags"]) == 1 for _, _, operation in _operations(DOCUMENT))
    assert all(tag["description"] for tag in DOCUMENT["tags"])
    assert len(declared) == len(set(declared))
    assert used == set(declared)


def test_servers_name_the_deployed_api_and_the_local_stack() -> None:
    urls = [server["url"] for server in DOCUMENT["servers"]]

    assert urls == [
        "/",
        "https://{api_id}.execute-api.{region}.amazonaws.com",
        "https://{jwt_api_id}.execute-api.{region}.amazonaws.com",
        "http://localhost:8000",
    ]


def test_webhooks_describe_every_event_with_its_signature_headers() -> None:
    events = DOCUMENT["webhooks"]

    assert set(events) == {event.value for event in EventType}
    for event in events.values():
        operation = event["post"]
        headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
        assert headers == {"webhook-id", "webhook-timestamp", "webhook-signature"}
        assert {"200", "410", "default"} <= set(operation["responses"])


def test_the_document_describes_every_route_of_the_template_and_no_other() -> None:
    """The HTTP API's routes (``template.yaml``, as SAM translates it) are the documented operations."""
    operations = {(method.upper(), path) for path, ops in DOCUMENT["paths"].items() for method in ops}

    routes = {(route.method, route.path) for spec in load_template().functions for route in spec.routes}
    assert operations == routes


def test_every_operation_has_a_summary_a_description_and_a_tag() -> None:
    for method, path, operation in _operations(DOCUMENT):
        assert operation.get("summary"), (method, path)
        assert len(operation.get("description", "")) >= 40, (method, path)
        assert len(operation.get("tags", [])) == 1, (method, path)


def test_prefer_wait_documents_its_cap_and_preference_applied() -> None:
    create = DOCUMENT["paths"]["/v1/predictions"]["post"]
    prefer = next(p for p in create["parameters"] if p["name"] == "prefer")
    cap = ApiSettings.model_fields["max_wait_seconds"]

    parameter = load_template().raw["Parameters"]["MaxWaitSeconds"]
    [function] = [spec for spec in load_template().functions if spec.logical_id == "CreatePredictionFunction"]
    ceiling = next(constraint.le for constraint in cap.metadata if isinstance(constraint, Le))

    assert f"`MaxWaitSeconds`, default {cap.default:g} s, never over {ceiling:g} s" in prefer["description"]
    assert (parameter["Default"], parameter["MaxValue"]) == (
        cap.default,
        ceiling,
    )  # the deployed cap is the documented one
    assert function.environment["MAX_WAIT_SECONDS"] == {"Ref": "MaxWaitSeconds"}
    assert set(create["responses"]["201"]["headers"]) == {"Location", "Preference-Applied", "X-Request-Id"}


def test_the_document_is_valid_openapi_3_1() -> None:
    assert DOCUMENT["openapi"].startswith("3.1.")
    validate(DOCUMENT, cls=OpenAPIV31SpecValidator)
