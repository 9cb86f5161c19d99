"""Every API function through the route API Gateway would pick, with real payload v2 events and moto."""

import json
from typing import Any
from urllib.parse import unquote

import pytest

from shared.keys.models import Scope
from shared.wiring import reset
from tests.conftest import CapturedLogs, Credential, MintKey
from tests.support.bad_requests import BAD_REQUESTS, PREDICTIONS, BadRequest
from tests.support.events import bearer, response_json
from tests.support.gateway import call


def _create(secret: str, body: Any = None, **kwargs: Any) -> dict[str, Any]:
    body = body if body is not None else {"model": "echo", "input": {"x": 1}}
    return call("POST", PREDICTIONS, body=body, headers={**bearer(secret), **kwargs.pop("headers", {})}, **kwargs)


def _problem(response: dict[str, Any]) -> dict[str, Any]:
    assert response["headers"]["content-type"] == "application/problem+json"
    assert response["isBase64Encoded"] is False  # text for API Gateway, not base64
    body: dict[str, Any] = response_json(response)
    assert body["status"] == response["statusCode"]
    assert body["type"].startswith("urn:infergate:problem:")
    return body


def test_create_returns_201_location_and_the_request_id(admin: Credential) -> None:
    response = _create(admin.secret, {"model": "sentiment", "input": {"text": "nice"}, "metadata": {"run": "7"}})

    body = response_json(response)
    assert response["statusCode"] == 201
    assert response["headers"]["location"] == f"https://api.example.com/v1/predictions/{body['id']}"
    assert response["headers"]["x-request-id"].startswith("req-")
    assert body["status"] == "starting"
    assert body["metadata"] == {"run": "7"}
    assert body["urls"]["cancel"].endswith(f"/v1/predictions/{body['id']}/cancel")
    assert body["webhook_events_filter"] == ["completed"]


def test_prefer_wait_returns_the_current_state_when_the_worker_is_not_running(
    admin: Credential, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAX_WAIT_SECONDS", "0.3")
    reset()
    response = _create(admin.secret, headers={"prefer": "wait=10"})

    assert response["statusCode"] == 201
    assert response["headers"]["preference-applied"] == "wait=0"
    assert response_json(response)["status"] == "starting"


@pytest.mark.parametrize("prefer", ['wait="10"', "wait = 10", 'respond-async; x="y", wait="10"'])
def test_prefer_wait_may_be_quoted_or_spaced_as_rfc_7240_allows(
    admin: Credential, monkeypatch: pytest.MonkeyPatch, prefer: str
) -> None:
    monkeypatch.setenv("MAX_WAIT_SECONDS", "0.3")
    reset()
    response = _create(admin.secret, headers={"prefer": prefer})

    assert response["statusCode"] == 201
    assert response["headers"]["preference-applied"] == "wait=0"


def test_a_duplicate_key_is_refused_with_its_name_and_place(admin: Credential) -> None:
    """`{"model": "echo", "model": "sentiment"}` used to run sentiment (the last value won)."""
    response = _create(admin.secret, raw_body=b'{"model": "echo", "model": "sentiment", "input": {"text": "a"}}')

    problem = _problem(response)
    assert response["statusCode"] == 400
    assert problem["type"] == "urn:infergate:problem:malformed-json"
    assert problem["detail"] == (
        'The request body is not valid JSON: the key "model" appears more than once in one object (at /model).'
    )
    assert problem["errors"] == [{"pointer": "/model", "detail": "is a duplicate key"}]
    assert response_json(call("GET", PREDICTIONS, headers=bearer(admin.secret)))["results"] == []


def test_get_cancel_and_list(admin: Credential) -> None:
    created = response_json(_create(admin.secret))
    path = f"{PREDICTIONS}/{created['id']}"

    got = call("GET", path, headers=bearer(admin.secret))
    canceled = call("POST", f"{path}/cancel", headers=bearer(admin.secret))
    again = call("POST", f"{path}/cancel", headers=bearer(admin.secret))
    listed = call("GET", PREDICTIONS, headers=bearer(admin.secret))

    assert got["statusCode"] == 200
    assert response_json(got)["id"] == created["id"]
    assert (canceled["statusCode"], response_json(canceled)["status"]) == (200, "canceled")
    assert response_json(again) == response_json(canceled)
    assert [p["id"] for p in response_json(listed)["results"]] == [created["id"]]
    assert response_json(listed)["next"] is None


def test_list_paginates_with_opaque_cursors(admin: Credential) -> None:
    ids = [response_json(_create(admin.secret, {"model": "echo", "input": {"i": i}}))["id"] for i in range(5)]

    seen: list[str] = []
    query = "limit=2"
    for _ in range(5):
        page = response_json(call("GET", f"{PREDICTIONS}?{query}", headers=bearer(admin.secret)))
        seen += [p["id"] for p in page["results"]]
        if page["next"] is None:
            break
        query = f"limit=2&cursor={page['next']}"

    assert seen == sorted(ids, reverse=True)


def test_keys_lifecycle(admin: Credential) -> None:
    created = call("POST", "/v1/keys", body={"name": "ci", "scopes": ["predict"]}, headers=bearer(admin.secret))
    key = response_json(created)
    listed = response_json(call("GET", "/v1/keys", headers=bearer(admin.secret)))
    usable = _create(key["key"])
    deleted = call("DELETE", f"/v1/keys/{key['id']}", headers=bearer(admin.secret))
    after = _create(key["key"])

    assert created["statusCode"] == 201
    assert key["key"].startswith("igk_")
    assert key["scopes"] == ["predict"]
    assert {k["id"] for k in listed["results"]} == {admin.key_id, key["id"]}
    assert all("key" not in k and "secret_hash" not in k for k in listed["results"])
    assert next(k for k in listed["results"] if k["id"] == key["id"])["last4"] == key["key"][-4:]
    assert usable["statusCode"] == 201
    assert (deleted["statusCode"], deleted.get("body", "")) == (204, "")
    assert after["statusCode"] == 401


def test_models(admin: Credential) -> None:
    listed = response_json(call("GET", "/v1/models", headers=bearer(admin.secret)))
    sentiment = response_json(call("GET", "/v1/models/sentiment", headers=bearer(admin.secret)))

    assert [m["name"] for m in listed["results"]] == ["all-minilm-l6-v2", "echo", "iris", "sentiment"]
    assert sentiment["latest_version"] == 1
    assert sentiment["versions"][0]["input_schema"]["required"] == ["text"]
    assert sentiment["versions"][0]["artifact"] is None


def test_health_needs_no_key(stack: object) -> None:
    response = call("GET", "/v1/health")

    assert (response["statusCode"], response_json(response)) == (200, {"status": "ok", "version": "0.1.0"})


def test_tenants_cannot_see_each_other(mint: MintKey) -> None:
    acme, globex = mint("acme"), mint("globex")
    theirs = response_json(_create(globex.secret))

    get = call("GET", f"{PREDICTIONS}/{theirs['id']}", headers=bearer(acme.secret))
    cancel = call("POST", f"{PREDICTIONS}/{theirs['id']}/cancel", headers=bearer(acme.secret))
    deliveries = call("GET", f"{PREDICTIONS}/{theirs['id']}/webhook-deliveries", headers=bearer(acme.secret))
    listed = response_json(call("GET", PREDICTIONS, headers=bearer(acme.secret)))
    keys = response_json(call("GET", "/v1/keys", headers=bearer(acme.secret)))
    revoke = call("DELETE", f"/v1/keys/{globex.key_id}", headers=bearer(acme.secret))

    assert (get["statusCode"], cancel["statusCode"], deliveries["statusCode"], revoke["statusCode"]) == (404,) * 4
    assert listed["results"] == []
    assert [k["id"] for k in keys["results"]] == [acme.key_id]
    assert _create(globex.secret)["statusCode"] == 201  # the revoke attempt changed nothing


def test_a_foreign_cursor_is_refused(mint: MintKey) -> None:
    acme, globex = mint("acme"), mint("globex")
    for _ in range(2):
        _create(globex.secret)
    cursor = response_json(call("GET", f"{PREDICTIONS}?limit=1", headers=bearer(globex.secret)))["next"]

    response = call("GET", f"{PREDICTIONS}?cursor={cursor}", headers=bearer(acme.secret))

    assert response["statusCode"] == 400
    assert _problem(response)["type"] == "urn:infergate:problem:bad-request"


@pytest.mark.parametrize("case", BAD_REQUESTS, ids=lambda c: f"{c.status}-{c.method}-{c.path[:40]}")
def test_bad_requests_get_problem_details_and_change_nothing(admin: Credential, case: BadRequest) -> None:
    response = call(case.method, case.path, headers=bearer(admin.secret), **case.kwargs)

    problem = _problem(response)
    assert response["statusCode"] == case.status, problem
    assert problem["type"] == f"urn:infergate:problem:{case.slug}"
    assert problem["instance"] == unquote(case.path.split("?")[0])
    if case.pointer is not None:
        assert case.pointer in [e["pointer"] for e in problem["errors"]]
    assert "x" * 100 not in json.dumps(problem)  # never the caller's raw input
    listed = response_json(call("GET", PREDICTIONS, headers=bearer(admin.secret)))
    assert listed["results"] == []


def test_wrong_method_names_the_allowed_ones(stack: object) -> None:
    response = call("PUT", "/v1/predictions/pred_01JD5YB4W3ZV0B4S8FZ7Q6N9XK")

    assert response["statusCode"] == 405
    assert response["headers"]["allow"] == "GET"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [("PUT", PREDICTIONS, "GET, POST"), ("DELETE", "/v1/keys", "GET, POST"), ("PATCH", "/v1/uploads", "POST")],
)
def test_wrong_method_on_a_path_with_several_names_them_all(
    stack: object, method: str, path: str, allowed: str
) -> None:
    response = call(method, path)

    assert response["statusCode"] == 405
    assert response["headers"]["allow"] == allowed
    assert _problem(response)["type"] == "urn:infergate:problem:method-not-allowed"


@pytest.mark.parametrize(
    "headers",
    [{}, {"authorization": "Bearer igk_unknownbutwellformed0000000000000"}, {"authorization": "Basic Zm9vOmJhcg=="}],
    ids=["missing", "unknown", "wrong scheme"],
)
def test_missing_or_unknown_keys_are_401(stack: object, headers: dict[str, str]) -> None:
    response = call("GET", PREDICTIONS, headers=headers)

    assert response["statusCode"] == 401
    assert response["headers"]["www-authenticate"] == "Bearer"
    assert _problem(response)["type"] == "urn:infergate:problem:unauthenticated"


def test_a_predict_key_cannot_manage_keys(mint: MintKey) -> None:
    predictor = mint("acme", (Scope.PREDICT,))

    responses = [
        call("GET", "/v1/keys", headers=bearer(predictor.secret)),
        call("POST", "/v1/keys", body={"name": "x", "scopes": ["admin"]}, headers=bearer(predictor.secret)),
        call("DELETE", f"/v1/keys/{predictor.key_id}", headers=bearer(predictor.secret)),
    ]

    assert [r["statusCode"] for r in responses] == [403, 403, 403]
    assert _create(predictor.secret)["statusCode"] == 201


def test_an_unexpected_fault_is_a_500_with_only_the_request_id(
    admin: Credential, monkeypatch: pytest.MonkeyPatch, captured_logs: CapturedLogs
) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("internal detail: table layout")

    monkeypatch.setattr("shared.predictions.service.PredictionService.list", explode)

    response = call("GET", PREDICTIONS, headers=bearer(admin.secret))

    problem = _problem(response)
    request_id = response["headers"]["x-request-id"]
    assert response["statusCode"] == 500
    assert request_id in problem["detail"]
    assert "table layout" not in json.dumps(problem)
    errors = [r for r in captured_logs.records if r["level"] == "ERROR"]
    assert errors
    assert errors[0]["correlation_id"] == request_id


def test_no_key_or_secret_is_logged(admin: Credential, captured_logs: CapturedLogs) -> None:
    created = response_json(
        call("POST", "/v1/keys", body={"name": "n", "scopes": ["predict"]}, headers=bearer(admin.secret))
    )
    _create(created["key"], {"model": "sentiment", "input": {"text": "my private diary entry"}})

    assert captured_logs.records
    assert admin.secret not in captured_logs.text
    assert created["key"] not in captured_logs.text
    assert "private diary" not in captured_logs.text
