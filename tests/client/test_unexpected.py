"""Whatever goes wrong, the client raises an ``InfergateError``: never pydantic's, httpx's or json's own errors."""

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from infergate import APIConnectionError, Infergate, InfergateError, InvalidRequest, UnexpectedResponse

from tests.client.fakes import FakeApi, ok, prediction

Call = Callable[[Infergate], Any]


@pytest.mark.parametrize(
    ("route", "body", "call"),
    [
        ("/v1/predictions/pred_1", {"hello": 1}, lambda c: c.predictions.get("pred_1")),
        ("/v1/models", [1, 2], lambda c: c.models.list()),
        ("/v1/models", {"results": [{"name": 3}]}, lambda c: c.models.list()),
        ("/v1/predictions", {"results": [{"id": "p"}], "next": None}, lambda c: list(c.predictions.list())),
        ("/v1/batches", "a string", lambda c: list(c.batches.list())),
        ("/v1/webhooks/secret", None, lambda c: c.webhooks.secret()),
    ],
)
def test_a_successful_answer_of_an_unexpected_shape_is_an_unexpected_response(
    route: str, body: Any, call: Call
) -> None:
    api = FakeApi().on("GET", route, httpx.Response(200, json=body, headers={"X-Request-Id": "req-odd"}))

    with pytest.raises(UnexpectedResponse, match="not what this client expects") as raised:
        call(api.client())

    assert raised.value.status == 200
    assert raised.value.request_id == "req-odd"


def test_a_successful_answer_that_is_not_json_is_an_unexpected_response() -> None:
    api = FakeApi().on("GET", "/v1/predictions/pred_1", httpx.Response(200, text="<html>proxy</html>"))

    with pytest.raises(UnexpectedResponse, match="not JSON"):
        api.client().predictions.get("pred_1")


def test_a_body_that_cannot_be_decoded_is_an_unexpected_response() -> None:
    garbage = httpx.Response(200, headers={"Content-Encoding": "gzip"}, stream=httpx.ByteStream(b"not gzip"))
    api = FakeApi().on("GET", "/v1/predictions/pred_1", garbage)

    with pytest.raises(UnexpectedResponse, match="decoded"):
        api.client().predictions.get("pred_1")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_an_input_with_nan_or_infinity_is_refused_before_anything_is_sent(value: float) -> None:
    api = FakeApi().on("POST", "/v1/predictions", ok(prediction(), 201))

    with pytest.raises(InvalidRequest, match="not valid JSON") as raised:
        api.client().predictions.create("sentiment", {"x": [1.0, value]})

    assert isinstance(raised.value, ValueError)
    assert api.requests == []


def test_an_input_with_no_json_form_is_refused_by_the_async_client_too() -> None:
    api = FakeApi().on("POST", "/v1/models/sentiment/predict", ok({}))

    async def predict() -> None:
        async with api.async_client() as client:
            await client.models.predict("sentiment", {"when": object()})

    with pytest.raises(InvalidRequest):
        asyncio.run(predict())
    assert api.requests == []


def test_the_body_sent_is_compact_utf8_json() -> None:
    api = FakeApi().on("POST", "/v1/predictions", ok(prediction(), 201))

    api.client().predictions.create("sentiment", {"text": "café"})

    sent = api.requests[0]
    assert sent.headers["content-type"] == "application/json"
    assert json.loads(sent.content.decode("utf-8")) == {"model": "sentiment", "input": {"text": "café"}}


@pytest.mark.parametrize(
    ("error", "cls"),
    [
        (httpx.TooManyRedirects("Exceeded maximum allowed redirects."), APIConnectionError),
        (httpx.StreamConsumed(), InfergateError),
        (httpx.RemoteProtocolError("peer closed connection"), APIConnectionError),
    ],
)
def test_other_httpx_errors_are_typed(error: Exception, cls: type[InfergateError]) -> None:
    api = FakeApi().on("GET", "/v1/models", error)

    with pytest.raises(cls):
        api.client(max_retries=0).models.list()
