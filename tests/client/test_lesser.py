"""Smaller contracts: webhook timestamps, list parameters, error messages, and telling result files apart."""

import httpx
import pytest
from infergate import APIError, InvalidRequest, WebhookVerificationError, webhooks
from infergate.resources._paging import MAX_PAGE_SIZE

from tests.client.fakes import FakeApi, batch, ok

SECRET = "whsec_" + "A" * 44


@pytest.mark.parametrize("timestamp", ["9" * 5000, "1" * 13])
def test_a_timestamp_too_long_to_be_seconds_is_refused_as_a_verification_error(timestamp: str) -> None:
    headers = {"webhook-id": "msg_1", "webhook-timestamp": timestamp, "webhook-signature": "v1,AAAA"}

    with pytest.raises(WebhookVerificationError, match="not a number of seconds"):
        webhooks.verify(b"{}", headers, SECRET)


def test_keys_list_starts_from_a_cursor_with_a_page_size() -> None:
    api = FakeApi().on("GET", "/v1/keys", ok({"results": [], "next": None}))

    list(api.client().keys.list(cursor="c2", page_size=5))

    assert dict(api.requests[0].url.params) == {"cursor": "c2", "limit": "5"}


def test_a_page_size_over_the_apis_largest_is_lowered_to_it() -> None:
    api = FakeApi().on("GET", "/v1/predictions", ok({"results": [], "next": None}))

    list(api.client().predictions.list(page_size=500))

    assert api.requests[0].url.params["limit"] == str(MAX_PAGE_SIZE)


@pytest.mark.parametrize("page_size", [0, -1])
def test_a_page_size_under_one_is_refused(page_size: int) -> None:
    api = FakeApi()

    with pytest.raises(InvalidRequest, match="page_size"):
        list(api.client().batches.list(page_size=page_size))

    assert api.requests == []


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(401, content=b""),
        httpx.Response(409, json={"type": "about:blank", "title": "Conflict", "status": 409}),
        httpx.Response(418, json={"title": ""}),
    ],
)
def test_an_error_message_always_names_the_status(answer: httpx.Response) -> None:
    api = FakeApi().on("GET", "/v1/models", answer)

    with pytest.raises(APIError) as raised:
        api.client(max_retries=0).models.list()

    assert f"HTTP {answer.status_code}" in str(raised.value)


OUT, ERR = "http://s3.test/out.jsonl", "http://s3.test/err.jsonl"
OPENAI_OUTPUT = b'{"id": "r1", "custom_id": "a", "response": {"status_code": 200, "body": {}}, "error": null}\n'
OPENAI_ERROR = b'{"id": "r2", "custom_id": "b", "response": null, "error": {"code": "invalid_input"}}\n'


def _openai_batch() -> FakeApi:
    return (
        FakeApi()
        .on("GET", "/v1/batches/bat_1", ok(batch(output_url=OUT, errors_url=ERR)))
        .on("GET", OUT, httpx.Response(200, content=OPENAI_OUTPUT))
        .on("GET", ERR, httpx.Response(200, content=OPENAI_ERROR))
    )


def test_kind_tells_output_lines_from_error_lines_where_the_lines_cannot() -> None:
    client = _openai_batch().client()

    combined = list(client.batches.results("bat_1"))
    outputs = list(client.batches.results("bat_1", kind="output"))
    errors = list(client.batches.results("bat_1", kind="errors"))

    assert all("error" in line for line in combined)  # both kinds have an "error" member
    assert [line["custom_id"] for line in outputs] == ["a"]
    assert [line["custom_id"] for line in errors] == ["b"]
    assert combined == outputs + errors  # each line exactly as its file holds it


def test_an_unknown_kind_is_refused_rather_than_yielding_nothing() -> None:
    api = _openai_batch()

    with pytest.raises(InvalidRequest, match="kind"):
        list(api.client().batches.results("bat_1", kind="error"))  # type: ignore[arg-type]

    assert api.requests == []
