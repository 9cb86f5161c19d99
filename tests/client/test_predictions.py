"""``run``, ``predictions.*`` and cursor paging, against the scripted API."""

import asyncio
import json

import httpx
import pytest
from infergate import PredictionCanceled, PredictionFailed, PredictionTimeout, WaitTimeout

from tests.client.conftest import Naps
from tests.client.fakes import FakeApi, ok, prediction


def test_run_holds_the_create_with_prefer_wait_and_answers_the_output() -> None:
    api = FakeApi().on("POST", "/v1/predictions", ok(prediction("succeeded"), 201))

    output = api.client().run("sentiment", {"text": "hi"}, version=2, timeout=8)

    [created] = api.requests
    assert output == {"label": "positive"}
    assert created.headers["prefer"] == "wait=7"  # a second short of the timeout: the answer comes in time
    assert json.loads(created.content) == {"model": "sentiment:2", "input": {"text": "hi"}}


def test_run_asks_for_at_most_the_servers_longest_wait_and_reads_long_enough() -> None:
    api = FakeApi().on("POST", "/v1/predictions", ok(prediction("succeeded"), 201))

    api.client(timeout=5.0).run("sentiment", {"text": "hi"}, timeout=300)

    [created] = api.requests
    assert created.headers["prefer"] == "wait=25"
    assert created.extensions["timeout"]["read"] >= 25


def test_run_polls_what_the_wait_did_not_finish(slept: Naps) -> None:
    api = (
        FakeApi()
        .on("POST", "/v1/predictions", ok(prediction("starting"), 201))
        .on("GET", "/v1/predictions/pred_1", ok(prediction("processing")), ok(prediction("succeeded")))
    )

    output = api.client().run("sentiment", {"text": "hi"}, poll_interval=0.25)

    assert output == {"label": "positive"}
    assert len(api.sent("GET", "/v1/predictions/pred_1")) == 2
    assert slept == [0.25, 0.25]


def test_run_raises_the_failure_with_the_prediction_and_its_error() -> None:
    failed = prediction("failed", error={"code": "invalid_input", "message": "bad"})
    api = FakeApi().on("POST", "/v1/predictions", ok(failed, 201))

    with pytest.raises(PredictionFailed, match="invalid_input") as raised:
        api.client().run("sentiment", {"text": "hi"})

    assert raised.value.prediction.id == "pred_1"
    assert raised.value.error is not None
    assert (raised.value.error.code, raised.value.error.message) == ("invalid_input", "bad")


def test_run_raises_when_the_prediction_was_canceled() -> None:
    api = FakeApi().on("POST", "/v1/predictions", ok(prediction("canceled"), 201))

    with pytest.raises(PredictionCanceled):
        api.client().run("sentiment", {"text": "hi"})


def test_run_times_out_with_the_prediction_id(slept: Naps) -> None:
    api = (
        FakeApi()
        .on("POST", "/v1/predictions", ok(prediction("starting"), 201))
        .on("GET", "/v1/predictions/pred_1", ok(prediction("processing")))
    )

    with pytest.raises(PredictionTimeout) as raised:
        api.client().run("sentiment", {"text": "hi"}, timeout=3, poll_interval=1)

    assert raised.value.prediction_id == "pred_1"
    assert isinstance(raised.value, WaitTimeout)
    assert isinstance(raised.value, TimeoutError)
    assert sum(slept) == pytest.approx(3)


def test_a_run_shorter_than_a_second_is_not_held() -> None:
    api = FakeApi().on("POST", "/v1/predictions", ok(prediction("succeeded"), 201))

    api.client().run("sentiment", {"text": "hi"}, timeout=0.5)

    assert "prefer" not in api.requests[0].headers


def test_create_sends_the_api_field_names() -> None:
    api = FakeApi().on("POST", "/v1/predictions", ok(prediction("starting"), 201))

    api.client().predictions.create(
        "sentiment",
        {"text": "hi"},
        webhook="https://hooks.example/in",
        webhook_events_filter=["start", "completed"],
        metadata={"order": "42"},
    )

    assert json.loads(api.requests[0].content) == {
        "model": "sentiment",
        "input": {"text": "hi"},
        "webhook": "https://hooks.example/in",
        "webhook_events_filter": ["start", "completed"],
        "metadata": {"order": "42"},
    }
    assert "prefer" not in api.requests[0].headers


def test_wait_returns_a_failed_prediction_without_raising() -> None:
    api = FakeApi().on("GET", "/v1/predictions/pred_1", ok(prediction("processing")), ok(prediction("failed")))

    final = api.client().predictions.wait("pred_1", poll_interval=0.1)

    assert final.status == "failed"
    assert final.is_terminal


def test_cancel_posts_to_the_cancel_route() -> None:
    api = FakeApi().on("POST", "/v1/predictions/pred_1/cancel", ok(prediction("canceled")))

    assert api.client().predictions.cancel("pred_1").status == "canceled"


def _page(ids: list[str], next: str | None) -> httpx.Response:
    return ok({"results": [prediction(id=i) for i in ids], "next": next})


def _paged_api() -> FakeApi:
    def answer(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        return {None: _page(["p1", "p2"], "c2"), "c2": _page(["p3", "p4"], "c3"), "c3": _page(["p5"], None)}[cursor]

    return FakeApi().on("GET", "/v1/predictions", answer)


def test_list_follows_next_cursors_to_the_end() -> None:
    api = _paged_api()

    ids = [p.id for p in api.client().predictions.list()]

    assert ids == ["p1", "p2", "p3", "p4", "p5"]
    assert [r.url.params.get("cursor") for r in api.requests] == [None, "c2", "c3"]


def test_list_stops_at_the_limit_without_fetching_more_pages() -> None:
    api = _paged_api()

    ids = [p.id for p in api.client().predictions.list(limit=3)]

    assert ids == ["p1", "p2", "p3"]
    assert len(api.requests) == 2
    assert api.requests[0].url.params["limit"] == "3"


def test_list_is_lazy_and_starts_from_a_given_cursor() -> None:
    api = _paged_api()

    listing = api.client().predictions.list(cursor="c3", page_size=50)
    assert api.requests == []
    ids = [p.id for p in listing]

    assert ids == ["p5"]
    assert api.requests[0].url.params["limit"] == "50"


def test_unknown_members_of_an_answer_are_kept() -> None:
    api = FakeApi().on("GET", "/v1/predictions/pred_1", ok(prediction(queue_position=3)))

    got = api.client().predictions.get("pred_1")

    assert got.model_extra == {"queue_position": 3}


def test_the_async_client_runs_and_lists_alike(slept: Naps) -> None:
    api = (
        _paged_api()
        .on("POST", "/v1/predictions", ok(prediction("starting"), 201))
        .on("GET", "/v1/predictions/pred_1", ok(prediction("succeeded")))
    )

    async def use() -> tuple[dict[str, object], list[str]]:
        async with api.async_client() as client:
            output = await client.run("sentiment", {"text": "hi"})
            ids = [p.id async for p in client.predictions.list(limit=4)]
            return output, ids

    output, ids = asyncio.run(use())

    assert output == {"label": "positive"}
    assert ids == ["p1", "p2", "p3", "p4"]
    assert len(slept) == 1


def test_the_async_client_runs_calls_concurrently() -> None:
    api = (
        FakeApi()
        .on("GET", "/v1/predictions/pred_1", ok(prediction(id="pred_1")))
        .on("GET", "/v1/predictions/pred_2", ok(prediction(id="pred_2")))
    )

    async def both() -> list[str]:
        async with api.async_client() as client:
            found = await asyncio.gather(client.predictions.get("pred_1"), client.predictions.get("pred_2"))
            return [p.id for p in found]

    assert asyncio.run(both()) == ["pred_1", "pred_2"]
