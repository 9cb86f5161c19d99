"""Bounded retries with backoff on 429, 502/503/504 and connection errors; one Idempotency-Key per create."""

import email.utils
import time

import httpx
import pytest
from infergate import APIConnectionError, APITimeoutError, BadRequest, RateLimited, ServiceUnavailable, _retry

from tests.client.conftest import Naps
from tests.client.fakes import FakeApi, batch, ok, prediction, problem


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_a_transient_status_is_retried_until_an_answer(status: int, slept: Naps) -> None:
    api = FakeApi().on("GET", "/v1/predictions/pred_1", problem(status), problem(status), ok(prediction()))

    got = api.client(max_retries=2).predictions.get("pred_1")

    assert got.id == "pred_1"
    assert len(api.requests) == 3
    assert len(slept) == 2


def test_retries_stop_after_max_retries_with_the_last_error(slept: Naps) -> None:
    api = FakeApi().on("GET", "/v1/predictions/pred_1", problem(503, "Try later."))

    with pytest.raises(ServiceUnavailable, match="Try later") as raised:
        api.client(max_retries=3).predictions.get("pred_1")

    assert len(api.requests) == 4
    assert raised.value.status == 503


def test_no_retries_when_max_retries_is_zero() -> None:
    api = FakeApi().on("GET", "/v1/predictions/pred_1", problem(503))

    with pytest.raises(ServiceUnavailable):
        api.client(max_retries=0).predictions.get("pred_1")

    assert len(api.requests) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 413, 415, 422, 500])
def test_other_errors_are_never_retried(status: int) -> None:
    api = FakeApi().on("GET", "/v1/predictions/pred_1", problem(status))

    with pytest.raises(Exception, match="HTTP"):
        api.client(max_retries=5).predictions.get("pred_1")

    assert len(api.requests) == 1


def test_retry_after_in_seconds_is_honoured(slept: Naps) -> None:
    api = FakeApi().on("GET", "/v1/models", problem(429, headers={"Retry-After": "7"}), ok({"results": []}))

    api.client().models.list()

    assert slept == [7.0]


def test_retry_after_as_an_http_date_is_honoured(slept: Naps) -> None:
    when = email.utils.formatdate(time.time() + 12, usegmt=True)
    api = FakeApi().on("GET", "/v1/models", problem(503, headers={"Retry-After": when}), ok({"results": []}))

    api.client().models.list()

    assert 10.0 <= slept[0] <= 12.0


def test_a_long_retry_after_is_capped(slept: Naps) -> None:
    api = FakeApi().on("GET", "/v1/models", problem(429, headers={"Retry-After": "3600"}), ok({"results": []}))

    api.client().models.list()

    assert slept == [_retry.MAX_RETRY_AFTER]


def test_backoff_grows_exponentially_with_jitter_and_is_capped() -> None:
    delays = [_retry.delay(attempt, None) for attempt in range(10)]

    for attempt, delay in enumerate(delays):
        ceiling = min(_retry.MAX_BACKOFF, _retry.BASE_DELAY * 2**attempt)
        assert ceiling / 2 <= delay <= ceiling


def test_the_idempotency_key_is_the_same_on_every_retry_of_a_create() -> None:
    api = FakeApi().on("POST", "/v1/predictions", problem(503), httpx.ConnectError("refused"), ok(prediction(), 201))

    api.client().predictions.create("sentiment", {"text": "hi"})

    keys = [request.headers["idempotency-key"] for request in api.sent("POST", "/v1/predictions")]
    assert len(keys) == 3
    assert len(set(keys)) == 1


def test_each_call_gets_a_fresh_idempotency_key_and_a_given_one_is_sent() -> None:
    api = FakeApi().on("POST", "/v1/predictions", ok(prediction(), 201))
    client = api.client()

    client.predictions.create("sentiment", {"text": "a"})
    client.predictions.create("sentiment", {"text": "a"})
    client.predictions.create("sentiment", {"text": "a"}, idempotency_key="order-42")

    first, second, given = (request.headers["idempotency-key"] for request in api.requests)
    assert first != second
    assert given == "order-42"


def test_only_the_creates_the_server_deduplicates_carry_an_idempotency_key() -> None:
    # POST /v1/predictions and POST /v1/batches store the key and answer a replay with the first resource,
    # so their retries are safe. Every other POST ignores the header (functions/create_key/app.py among
    # them): sending one there would promise a protection the server does not give.
    upload = {"id": "upl_1", "bytes": 1, "purpose": "batch_input", "status": "pending", "url": "http://s3.test/u"}
    api = (
        FakeApi()
        .on("POST", "/v1/predictions", ok(prediction(), 201))
        .on("POST", "/v1/uploads", ok(upload, 201))
        .on("PUT", "http://s3.test/u", ok({}))
        .on("POST", "/v1/batches", ok(batch("validating"), 201))
        .on(
            "POST",
            "/v1/keys",
            ok({"id": "key_1", "name": "n", "scopes": ["predict"], "key": "igk_s", "created_at": "t"}, 201),
        )
        .on("POST", "/v1/predictions/pred_1/cancel", ok(prediction("canceled")))
        .on("POST", "/v1/webhooks/secret/rotate", ok({"key": "whsec_x"}))
        .on(
            "POST",
            "/v1/models/sentiment/predict",
            ok({"model": "sentiment", "version": 1, "output": {}, "metrics": {"predict_time": 0.1}}),
        )
    )
    client = api.client()

    client.predictions.create("sentiment", {"text": "hi"})
    client.batches.create("sentiment", rows=[{"custom_id": "a", "input": {}}])
    client.keys.create("n", ["predict"])
    client.predictions.cancel("pred_1")
    client.webhooks.rotate()
    client.models.predict("sentiment", {})

    carrying = {r.url.path for r in api.requests if r.method == "POST" and "idempotency-key" in r.headers}
    assert carrying == {"/v1/predictions", "/v1/batches"}


def test_batches_and_keys_take_no_idempotency_key_of_the_caller() -> None:
    # batches.create uploads the file again on each call, so a caller's key would name another body (409);
    # the server does not deduplicate key creation at all.
    client = FakeApi().client()

    with pytest.raises(TypeError):
        client.batches.create("sentiment", rows=[], idempotency_key="job-1")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        client.keys.create("n", ["predict"], idempotency_key="k-1")  # type: ignore[call-arg]


def test_a_create_the_server_does_not_deduplicate_is_not_retried_on_503() -> None:
    api = FakeApi().on("POST", "/v1/keys", problem(503))

    with pytest.raises(ServiceUnavailable):
        api.client().keys.create("n", ["predict"])

    assert len(api.requests) == 1


def test_a_create_the_server_does_not_deduplicate_is_retried_on_429_and_refused_connections() -> None:
    created = {"id": "key_1", "name": "n", "scopes": ["predict"], "key": "igk_s", "created_at": "t"}
    api = FakeApi().on("POST", "/v1/keys", problem(429), httpx.ConnectError("refused"), ok(created, 201))

    key = api.client().keys.create("n", ["predict"])

    assert key.key == "igk_s"
    assert len(api.requests) == 3


def test_a_create_the_server_does_not_deduplicate_is_not_retried_when_the_answer_was_lost() -> None:
    api = FakeApi().on("POST", "/v1/keys", httpx.ReadError("connection reset"))

    with pytest.raises(APIConnectionError):
        api.client().keys.create("n", ["predict"])

    assert len(api.requests) == 1


def test_connection_errors_are_retried_then_raised_as_a_connection_error() -> None:
    api = FakeApi().on("GET", "/v1/models", httpx.ConnectError("refused"))

    with pytest.raises(APIConnectionError, match="could not be reached") as raised:
        api.client(max_retries=2).models.list()

    assert len(api.requests) == 3
    assert not isinstance(raised.value, APITimeoutError)


def test_a_timeout_is_raised_as_a_timeout_error() -> None:
    api = FakeApi().on("GET", "/v1/models", httpx.ReadTimeout("slow"))

    with pytest.raises(APITimeoutError):
        api.client(max_retries=1).models.list()

    assert len(api.requests) == 2


def test_a_rate_limit_that_outlasts_the_retries_says_when_to_come_back() -> None:
    api = FakeApi().on("GET", "/v1/models", problem(429, headers={"Retry-After": "3"}))

    with pytest.raises(RateLimited) as raised:
        api.client(max_retries=1).models.list()

    assert raised.value.retry_after == 3.0


def test_async_retries_alike(slept: Naps) -> None:
    import asyncio

    api = FakeApi().on("POST", "/v1/predictions", problem(503, headers={"Retry-After": "2"}), ok(prediction(), 201))

    async def create() -> str:
        async with api.async_client() as client:
            return (await client.predictions.create("sentiment", {"text": "hi"})).id

    assert asyncio.run(create()) == "pred_1"
    assert slept == [2.0]
    keys = {request.headers["idempotency-key"] for request in api.requests}
    assert len(keys) == 1


def test_a_bad_request_is_not_retried() -> None:
    api = FakeApi().on("POST", "/v1/predictions", problem(400))

    with pytest.raises(BadRequest):
        api.client().predictions.create("sentiment", {"text": "hi"})

    assert len(api.requests) == 1
