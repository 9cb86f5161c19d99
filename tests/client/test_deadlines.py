"""A timeout bounds the whole call: retries stop, sleeps and each request's timeouts shrink to the time left."""

import asyncio

import httpx
import pytest
from infergate import BatchTimeout, PredictionTimeout, RateLimited, _flow

from tests.client.conftest import Naps
from tests.client.fakes import FakeApi, batch, ok, prediction, problem


def _read_timeouts(api: FakeApi) -> list[float]:
    return [request.extensions["timeout"]["read"] for request in api.requests]


def test_run_does_not_wait_out_a_retry_after_beyond_its_timeout(slept: Naps) -> None:
    api = FakeApi().on("POST", "/v1/predictions", problem(429, headers={"Retry-After": "30"}))

    with pytest.raises(RateLimited):
        api.client(max_retries=5).run("sentiment", {"text": "hi"}, timeout=2)

    assert sum(slept) <= 2
    assert len(api.requests) == 1


def test_run_caps_each_request_to_the_time_left(slept: Naps) -> None:
    api = (
        FakeApi()
        .on("POST", "/v1/predictions", ok(prediction("starting"), 201))
        .on("GET", "/v1/predictions/pred_1", ok(prediction("processing")), ok(prediction("succeeded")))
    )

    api.client().run("sentiment", {"text": "hi"}, timeout=5, poll_interval=2)

    create, first, second = _read_timeouts(api)
    assert create == pytest.approx(5)  # not the client's 60 s, nor the held wait's 4 + 10 s
    assert first == pytest.approx(3)
    assert second == pytest.approx(1)
    assert api.requests[0].headers["prefer"] == "wait=4"


def test_a_request_gets_at_least_the_floor_however_little_is_left(slept: Naps) -> None:
    api = (
        FakeApi()
        .on("POST", "/v1/predictions", ok(prediction("starting"), 201))
        .on("GET", "/v1/predictions/pred_1", ok(prediction("succeeded")))
    )

    api.client().run("sentiment", {"text": "hi"}, timeout=0.5, poll_interval=1)

    assert _read_timeouts(api) == [_flow.MIN_REQUEST_TIMEOUT, _flow.MIN_REQUEST_TIMEOUT]
    assert sum(slept) == pytest.approx(0.5)


def test_wait_gives_up_retrying_at_its_deadline_with_the_last_state(slept: Naps) -> None:
    api = FakeApi().on(
        "GET",
        "/v1/predictions/pred_1",
        ok(prediction("processing")),
        problem(503, headers={"Retry-After": "3"}),
    )

    with pytest.raises(PredictionTimeout) as raised:
        api.client(max_retries=10).predictions.wait("pred_1", timeout=10, poll_interval=1)

    assert raised.value.prediction.status == "processing"
    assert sum(slept) <= 10
    assert all(nap <= 10 for nap in slept)
    assert isinstance(raised.value.__cause__, Exception)


def test_a_request_that_times_out_at_the_deadline_is_a_prediction_timeout(slept: Naps) -> None:
    api = FakeApi().on("GET", "/v1/predictions/pred_1", ok(prediction("processing")), httpx.ReadTimeout("slow"))

    with pytest.raises(PredictionTimeout):
        api.client(max_retries=0).predictions.wait("pred_1", timeout=1, poll_interval=5)

    assert slept == [1]


def test_batches_wait_with_a_timeout_bounds_retries_too(slept: Naps) -> None:
    api = FakeApi().on(
        "GET", "/v1/batches/bat_1", ok(batch("in_progress")), problem(429, headers={"Retry-After": "20"})
    )

    with pytest.raises(BatchTimeout) as raised:
        api.client(max_retries=10).batches.wait("bat_1", timeout=5, poll_interval=1)

    assert raised.value.batch_id == "bat_1"
    assert sum(slept) <= 5
    assert max(_read_timeouts(api)) <= 5


def test_batches_wait_without_a_timeout_keeps_the_client_timeouts(slept: Naps) -> None:
    api = FakeApi().on("GET", "/v1/batches/bat_1", ok(batch("in_progress")), ok(batch("completed")))

    api.client(timeout=42).batches.wait("bat_1", poll_interval=1)

    assert _read_timeouts(api) == [42, 42]


def test_the_async_run_is_bounded_alike(slept: Naps) -> None:
    api = FakeApi().on("POST", "/v1/predictions", problem(503, headers={"Retry-After": "30"}))

    async def run() -> None:
        async with api.async_client(max_retries=5) as client:
            await client.run("sentiment", {"text": "hi"}, timeout=3)

    with pytest.raises(Exception, match="503"):
        asyncio.run(run())
    assert sum(slept) <= 3
