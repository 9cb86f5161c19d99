"""End to end over the local stack: real HTTP, real queue pollers, moto in server mode."""

import json
import os
import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from tests.e2e.conftest import LocalStack, mint_key
from tests.support.bad_requests import BAD_REQUESTS, PREDICTIONS, BadRequest
from tools.template import ROOT

pytestmark = pytest.mark.e2e


def _walkthrough() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- walkthrough:start -->\s*```bash\n(.*?)```\s*<!-- walkthrough:end -->", readme, re.S)
    assert match, "README.md lost its walk-through block"
    return match.group(1)


def _poll(client: httpx.Client, prediction_id: str, deadline_seconds: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + deadline_seconds
    while True:
        body: dict[str, Any] = client.get(f"{PREDICTIONS}/{prediction_id}").json()
        if body["status"] in {"succeeded", "failed", "canceled"} or time.monotonic() > deadline:
            return body
        time.sleep(0.1)


def test_the_readme_walkthrough_works_verbatim(local_stack: LocalStack) -> None:
    script = "set -euo pipefail\n" + _walkthrough()
    env = {**os.environ, "BASE": local_stack.base_url, "KEY": local_stack.admin_key}

    done = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr
    assert '"label": "positive"' in done.stdout
    assert '"label": "negative"' in done.stdout
    assert re.search(r"pred_[0-9A-Z]{26}", done.stdout)
    assert "401" in done.stdout  # the revoked key is refused at once


def test_swagger_ui_and_openapi_are_served(local_stack: LocalStack) -> None:
    with local_stack.client() as client:
        docs = client.get("/docs")
        spec = client.get("/openapi.json")

    assert docs.status_code == 200
    assert "swagger-ui" in docs.text
    assert spec.json() == json.loads((ROOT / "openapi.json").read_text(encoding="utf-8"))


def test_prefer_wait_returns_the_finished_prediction(local_stack: LocalStack) -> None:
    with local_stack.client(local_stack.admin_key) as client:
        response = client.post(
            PREDICTIONS,
            json={"model": "sentiment", "input": {"text": "This is great!"}},
            headers={"Prefer": "wait=15"},
        )

    body = response.json()
    assert response.status_code == 201
    assert response.headers["preference-applied"] == "wait=15"
    assert response.headers["location"].endswith(body["id"])
    assert body["status"] == "succeeded"
    assert body["output"]["label"] == "positive"
    assert body["metrics"]["predict_time"] > 0


def test_pagination_across_pages(local_stack: LocalStack) -> None:
    key = mint_key(local_stack, "paging", "predict")
    with local_stack.client(key) as client:
        created = [client.post(PREDICTIONS, json={"model": "echo", "input": {"i": i}}).json()["id"] for i in range(7)]
        seen: list[str] = []
        params: dict[str, Any] = {"limit": 3}
        pages = 0
        while True:
            page = client.get(PREDICTIONS, params=params).json()
            pages += 1
            seen += [p["id"] for p in page["results"]]
            if page["next"] is None:
                break
            params = {"limit": 3, "cursor": page["next"]}

    assert seen == sorted(created, reverse=True)
    assert pages == 3


def test_cancel_races_end_in_exactly_one_consistent_state(local_stack: LocalStack) -> None:
    key = mint_key(local_stack, "canceling", "predict")
    with local_stack.client(key) as client:
        ids = [client.post(PREDICTIONS, json={"model": "echo", "input": {"i": i}}).json()["id"] for i in range(10)]
        with ThreadPoolExecutor(max_workers=5) as pool:
            answers = list(pool.map(lambda pid: client.post(f"{PREDICTIONS}/{pid}/cancel"), ids))
        finals = [_poll(client, pid) for pid in ids]

    for answer, final in zip(answers, finals, strict=True):
        assert answer.status_code == 200
        assert answer.json()["status"] in {"canceled", "succeeded"}
        assert final["status"] == answer.json()["status"]  # no later change
        assert (final["output"] is None) == (final["status"] == "canceled")


def test_cancelling_a_finished_prediction_returns_it_unchanged(local_stack: LocalStack) -> None:
    with local_stack.client(local_stack.admin_key) as client:
        created = client.post(PREDICTIONS, json={"model": "echo", "input": {"a": 1}}, headers={"Prefer": "wait=10"})
        finished = created.json()
        answer = client.post(f"{PREDICTIONS}/{finished['id']}/cancel")

    assert finished["status"] == "succeeded"
    assert answer.status_code == 200
    assert answer.json() == finished


def test_two_tenants_cannot_see_each_others_predictions_deliveries_secrets_or_keys(local_stack: LocalStack) -> None:
    acme, globex = mint_key(local_stack, "acme", "admin"), mint_key(local_stack, "globex", "admin")
    with local_stack.client(globex) as theirs, local_stack.client(acme) as mine:
        secret = theirs.post(PREDICTIONS, json={"model": "echo", "input": {"secret": 1}}).json()
        their_keys = theirs.get("/v1/keys").json()["results"]
        get = mine.get(f"{PREDICTIONS}/{secret['id']}")
        cancel = mine.post(f"{PREDICTIONS}/{secret['id']}/cancel")
        deliveries = mine.get(f"{PREDICTIONS}/{secret['id']}/webhook-deliveries")
        listed = mine.get(PREDICTIONS, params={"limit": 100}).json()["results"]
        secrets = [mine.get("/v1/webhooks/secret").json()["key"], theirs.get("/v1/webhooks/secret").json()["key"]]
        my_keys = mine.get("/v1/keys").json()["results"]
        revoke = mine.delete(f"/v1/keys/{their_keys[0]['id']}")
        theirs.post(PREDICTIONS, json={"model": "echo", "input": {}})  # two: a first page has a next cursor
        foreign_cursor = theirs.get(PREDICTIONS, params={"limit": 1}).json()["next"]
        cursor_use = mine.get(PREDICTIONS, params={"cursor": foreign_cursor})

    assert (get.status_code, cancel.status_code, deliveries.status_code, revoke.status_code) == (404, 404, 404, 404)
    assert secret["id"] not in {p["id"] for p in listed}
    assert secrets[0] != secrets[1]  # one webhook signing secret per tenant
    assert not {k["id"] for k in my_keys} & {k["id"] for k in their_keys}
    assert foreign_cursor is not None
    assert cursor_use.status_code == 400


@pytest.mark.parametrize("case", BAD_REQUESTS, ids=lambda c: f"{c.status}-{c.method}-{c.path[:40]}")
def test_bad_input_gets_a_problem_and_changes_nothing(local_stack: LocalStack, case: BadRequest) -> None:
    key = mint_key(local_stack, "hostile", "admin")
    with local_stack.client(key) as client:
        before = client.get(PREDICTIONS, params={"limit": 100}).json()["results"]
        kwargs: dict[str, Any] = {}
        if "body" in case.kwargs:
            kwargs["json"] = case.kwargs["body"]
        if "raw_body" in case.kwargs:
            kwargs["content"] = case.kwargs["raw_body"]
            kwargs["headers"] = {"content-type": "application/json"}
        response = client.request(case.method, case.path, **kwargs)
        after = client.get(PREDICTIONS, params={"limit": 100}).json()["results"]

    problem = response.json()
    assert response.status_code == case.status, problem
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"]
    assert problem["type"] == f"urn:infergate:problem:{case.slug}"
    assert problem["instance"] == unquote(case.path.split("?")[0])
    if case.pointer:
        assert case.pointer in [e["pointer"] for e in problem["errors"]]
    assert after == before


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer igk_unknownbutwellformed0000000000000", "Bearer not-a-key"],
    ids=["missing", "unknown", "malformed"],
)
def test_bad_keys_are_401(local_stack: LocalStack, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}

    response = httpx.get(f"{local_stack.base_url}{PREDICTIONS}", headers=headers)

    assert response.status_code == 401
    assert response.json()["type"] == "urn:infergate:problem:unauthenticated"


def test_a_predict_key_cannot_manage_keys(local_stack: LocalStack) -> None:
    key = mint_key(local_stack, "scoped", "predict")
    with local_stack.client(key) as client:
        response = client.post("/v1/keys", json={"name": "escalate", "scopes": ["admin"]})

    assert response.status_code == 403
    assert response.json()["type"] == "urn:infergate:problem:forbidden"
