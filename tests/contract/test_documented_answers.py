"""Bad requests sent through the deployed handlers (moto, payload v2 events): each answer's status, media
type and headers are documented for its operation in the committed ``openapi.json``."""

import json
from typing import Any, NamedTuple

import pytest
from botocore.exceptions import ClientError

from shared.adapters.clients import dynamodb_client
from tests.conftest import Credential
from tests.support.events import bearer
from tests.support.gateway import call, route
from tools.template import ROOT

DOCUMENT: dict[str, Any] = json.loads((ROOT / "openapi.json").read_text(encoding="utf-8"))
LONG_ID = "pred_" + "x" * 80


class Sent(NamedTuple):
    method: str
    path: str
    kwargs: dict[str, Any]
    status: int  # what the service answers (asserted, so that a case cannot pass by answering something else)
    media_type: str
    with_key: bool = True


CASES = [
    Sent("GET", "/v1/predictions?limit=0", {}, 400, "application/problem+json"),
    Sent("GET", "/v1/keys?cursor=" + "c" * 2000, {}, 400, "application/problem+json"),
    Sent("GET", f"/v1/predictions/{LONG_ID}", {}, 400, "application/problem+json"),
    Sent("POST", "/v1/predictions", {"body": {"input": {}}}, 422, "application/problem+json"),
    Sent("POST", "/v1/predictions", {"raw_body": b'{"model": '}, 400, "application/problem+json"),
    Sent(
        "POST",
        "/v1/predictions",
        {"body": {"model": "echo", "input": {}}, "headers": {"Idempotency-Key": "a b"}},
        400,
        "application/problem+json",
    ),
    Sent("POST", "/v1/batches", {"raw_body": b'{"model": "\xff"}'}, 400, "application/problem+json"),
    Sent("GET", "/v1/batches?cursor=" + "%F2%82%A2%AF" * 1000, {}, 431, "application/problem+json"),
    Sent("GET", "/v1/models", {}, 401, "application/problem+json", with_key=False),
    Sent("GET", "/v1/files?limit=0", {}, 400, "application/json"),
    Sent("POST", "/v1/embeddings", {"body": {"model": "x"}}, 400, "application/json"),
    Sent("GET", "/v1/files/file-nothing", {}, 401, "application/json", with_key=False),
    Sent("GET", "/v2/models/nothing", {}, 404, "application/json"),
    Sent("GET", "/v2", {}, 401, "application/json", with_key=False),
    Sent("GET", "/v2/health/live", {"headers": {"x-big": "x" * 11000}}, 431, "application/json", with_key=False),
]


@pytest.mark.parametrize("sent", CASES, ids=lambda sent: f"{sent.method} {sent.path[:40]} {sent.status}")
def test_the_answer_to_a_bad_request_is_documented(stack: object, admin: Credential, sent: Sent) -> None:
    headers = {**(bearer(admin.secret) if sent.with_key else {}), **sent.kwargs.get("headers", {})}

    response = call(sent.method, sent.path, **{**sent.kwargs, "headers": headers})

    _, route_key = route(sent.method, sent.path.partition("?")[0])
    method, path = route_key.split(" ")
    documented = DOCUMENT["paths"][path][method.lower()]["responses"]
    status = response["statusCode"]
    media_type = response["headers"]["content-type"].split(";")[0]
    assert status == sent.status, response["body"]
    assert str(status) in documented, (route_key, status)
    assert list(documented[str(status)]["content"]) == [media_type]
    for header in documented[str(status)].get("headers", {}):
        assert header.lower() in response["headers"], header


@pytest.mark.parametrize("path", ["/v1/keys", "/v1/models", "/v1/predictions", "/v2", "/v1/files"])
def test_a_throttled_table_is_a_documented_503_with_retry_after(
    stack: object, admin: Credential, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key's lookup reads the table on every authenticated route: throttled, it is a 503 there."""

    def throttled(**_: Any) -> Any:
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}}, "GetItem")

    monkeypatch.setattr(dynamodb_client(), "get_item", throttled)

    response = call("GET", path, headers=bearer(admin.secret))

    _, route_key = route("GET", path)
    documented = DOCUMENT["paths"][route_key.split(" ")[1]]["get"]["responses"]
    assert response["statusCode"] == 503, response["body"]
    assert "503" in documented
    assert list(documented["503"]["content"]) == [response["headers"]["content-type"].split(";")[0]]
    assert {"retry-after", "x-request-id"} <= set(response["headers"])
    assert {"Retry-After", "X-Request-Id"} == set(documented["503"]["headers"])
