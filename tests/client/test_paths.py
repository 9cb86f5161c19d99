"""Ids and names are quoted as one path segment: none can reach another route or add a query."""

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from infergate import Infergate, InvalidRequest

from tests.client.fakes import FakeApi

HOSTILE = ["../batches/bat_1", "a/b", "x?cursor=abc", "x#frag", "%2E%2E", "..%2Fkeys", "a b", "..\\keys"]
Call = Callable[[Infergate, str], Any]
CALLS: list[tuple[str, str, Call]] = [
    ("/v1/predictions/", "", lambda c, v: c.predictions.get(v)),
    ("/v1/predictions/", "/cancel", lambda c, v: c.predictions.cancel(v)),
    ("/v1/batches/", "", lambda c, v: c.batches.get(v)),
    ("/v1/batches/", "/cancel", lambda c, v: c.batches.cancel(v)),
    ("/v1/keys/", "", lambda c, v: c.keys.revoke(v)),
    ("/v1/models/", "", lambda c, v: c.models.get(v)),
    ("/v1/models/", "/predict", lambda c, v: c.models.predict(v, {})),
    ("/v1/models/", "/versions", lambda c, v: c.models.push(v, b"x", input_schema={}, output_schema={})),
]


def _sent(call: Call, value: str) -> httpx.Request:
    api = FakeApi()  # every route answers 404: only the request matters
    upload = {"id": "upl_1", "bytes": 1, "purpose": "model_artifact", "status": "pending", "url": "http://s3.test/u"}
    api.on("POST", "/v1/uploads", httpx.Response(201, json=upload))
    api.on("PUT", "http://s3.test/u", httpx.Response(200))
    with pytest.raises(Exception):  # noqa: B017, PT011 - the 404 of the fake, whatever the route
        call(api.client(max_retries=0), value)
    return api.requests[-1]


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize(("prefix", "suffix", "call"), CALLS)
def test_an_id_is_one_quoted_segment_of_its_own_route(prefix: str, suffix: str, call: Call, value: str) -> None:
    sent = _sent(call, value)

    path = sent.url.raw_path.decode()
    assert path.startswith(prefix)
    assert path.endswith(suffix)
    quoted = path.removeprefix(prefix).removesuffix(suffix)
    assert "/" not in quoted
    assert "?" not in quoted
    assert "#" not in quoted
    assert not sent.url.query
    assert httpx.URL(f"http://x/{quoted}").path == f"/{value}"  # the server reads back exactly the value


@pytest.mark.parametrize("value", ["", ".", ".."])
@pytest.mark.parametrize(("prefix", "suffix", "call"), CALLS)
def test_an_empty_or_dot_id_is_refused_before_anything_is_sent(
    prefix: str, suffix: str, call: Call, value: str
) -> None:
    api = FakeApi()

    with pytest.raises(InvalidRequest):
        call(api.client(), value)

    assert api.requests == []  # a model's name is checked before its file is uploaded


def test_a_model_version_is_part_of_the_segment() -> None:
    api = FakeApi()

    with pytest.raises(Exception):  # noqa: B017, PT011 - the fake's 404
        api.client(max_retries=0).models.get("iris", version=2)

    assert api.requests[0].url.raw_path == b"/v1/models/iris%3A2"
