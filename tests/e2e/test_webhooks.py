"""Webhooks over the local stack: real HTTP, real pollers, a real receiver verifying every delivery."""

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from infergate.admin import Admin, AdminTarget

from tests.e2e.conftest import LocalStack, _free_port, running_stack
from tests.support.batch_flow import create as create_batch
from tests.support.batch_flow import jsonl, mixed, watch
from tests.support.loopback import eventually
from tests.support.receiver import receiver

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def webhook_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """The local stack as `make dev` runs it (loopback receivers allowed), with a millisecond retry schedule."""
    settings = {"WEBHOOKS_ALLOW_INSECURE": "true", "WEBHOOK_RETRY_SCALE": "0.00001"}
    with running_stack(tmp_path_factory.mktemp("webhooks"), settings) as stack:
        yield stack


def _deliveries(client: httpx.Client, prediction_id: str) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = client.get(f"/v1/predictions/{prediction_id}/webhook-deliveries").json()["results"]
    return results


def _settled(client: httpx.Client, prediction_id: str, count: int) -> list[dict[str, Any]] | None:
    found = _deliveries(client, prediction_id)
    done = len(found) == count and all(d["status"] != "pending" for d in found)
    return found if done else None


def _create(client: httpx.Client, url: str, events: list[str]) -> dict[str, Any]:
    body = {"model": "sentiment", "input": {"text": "Great news!"}, "webhook": url, "webhook_events_filter": events}
    response = client.post("/v1/predictions", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_started_and_completed_events_arrive_signed(webhook_stack: LocalStack) -> None:
    with receiver() as target, webhook_stack.client(webhook_stack.admin_key) as client:
        secret = client.get("/v1/webhooks/secret").json()["key"]
        created = _create(client, target.url, ["start", "completed"])
        settled = eventually(lambda: _settled(client, created["id"], 2))
        final = client.get(f"/v1/predictions/{created['id']}").json()

    payloads = {p["type"]: p for p in target.verified(secret)}
    assert settled is not None
    assert sorted(payloads) == ["prediction.completed", "prediction.started"]
    assert payloads["prediction.started"]["data"]["status"] == "processing"
    assert payloads["prediction.completed"]["data"] == final
    assert {d["status"] for d in settled} == {"delivered"}
    assert {r.headers["webhook-id"] for r in target.requests} == {d["id"] for d in settled}


def test_three_failures_then_one_accepted_event_with_one_stable_id(webhook_stack: LocalStack) -> None:
    with receiver([500, 503, 429, 200]) as target, webhook_stack.client(webhook_stack.admin_key) as client:
        secret = client.get("/v1/webhooks/secret").json()["key"]
        created = _create(client, target.url, ["completed"])
        settled = eventually(lambda: _settled(client, created["id"], 1))

    assert settled is not None
    [delivery] = settled
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == ("delivered", 4, 200)
    assert len(target.requests) == 4
    assert {r.headers["webhook-id"] for r in target.requests} == {delivery["id"]}
    assert len(target.verified(secret)) == 4  # every attempt is validly signed; only the last was accepted


def test_410_gone_gets_no_further_attempts(webhook_stack: LocalStack) -> None:
    with receiver([410]) as target, webhook_stack.client(webhook_stack.admin_key) as client:
        created = _create(client, target.url, ["completed"])
        settled = eventually(lambda: _settled(client, created["id"], 1))
        time.sleep(1.5)  # a few poller cycles: nothing more may arrive

    assert settled is not None
    assert settled[0]["status"] == "gone"
    assert len(target.requests) == 1


def test_an_unreachable_receiver_is_parked_and_redriven_once_it_is_back(webhook_stack: LocalStack) -> None:
    port = _free_port()  # nothing listens here yet: connection refused
    url = f"http://127.0.0.1:{port}/hooks"
    with webhook_stack.client(webhook_stack.admin_key) as client:
        secret = client.get("/v1/webhooks/secret").json()["key"]
        created = _create(client, url, ["completed"])
        parked = eventually(lambda: _settled(client, created["id"], 1))
        with receiver(port=port) as target:
            redriven = Admin(AdminTarget.local(webhook_stack.state_file)).redrive("webhooks")
            delivered = eventually(lambda: _settled(client, created["id"], 1))

    assert parked is not None
    assert (parked[0]["status"], parked[0]["attempts"], parked[0]["last_status_code"]) == ("failed", 11, None)
    assert redriven >= 1
    assert delivered is not None
    assert (delivered[0]["status"], delivered[0]["attempts"]) == ("delivered", 12)
    [payload] = target.verified(secret)
    assert payload["data"]["id"] == created["id"]


def test_webhooks_to_private_addresses_are_refused_at_creation(local_stack: LocalStack) -> None:
    """By default the local stack checks destinations as a deployment does."""
    with local_stack.client(local_stack.admin_key) as client:
        answers = [
            client.post("/v1/predictions", json={"model": "echo", "input": {}, "webhook": url})
            for url in ("http://127.0.0.1:9/h", "https://10.1.2.3/h", "https://[fd00:ec2::254]/", "https://2130706433/")
        ]

    assert [a.status_code for a in answers] == [422, 422, 422, 422]
    assert all(a.json()["errors"][0]["pointer"] == "/webhook" for a in answers)


def test_the_secret_endpoint_and_rotation(webhook_stack: LocalStack) -> None:
    with webhook_stack.client(webhook_stack.admin_key) as client:
        first = client.get("/v1/webhooks/secret").json()["key"]
        rotated = client.post("/v1/webhooks/secret/rotate")
        after = client.get("/v1/webhooks/secret").json()["key"]

    assert first.startswith("whsec_")
    assert rotated.status_code == 200
    assert rotated.json()["key"] == after != first


def test_a_batch_sends_one_signed_batch_completed_event(webhook_stack: LocalStack) -> None:
    with receiver() as target, webhook_stack.client(webhook_stack.admin_key) as client:
        secret = client.get("/v1/webhooks/secret").json()["key"]
        created = create_batch(client, jsonl(mixed(40)), webhook=target.url)
        final = watch(client, created["id"])[-1]
        arrived = eventually(lambda: target.requests)

    [payload] = target.verified(secret)  # the reference Standard Webhooks library checks the signature
    assert arrived
    assert payload["type"] == "batch.completed"
    data = payload["data"]
    assert (data["id"], data["status"], data["request_counts"]) == (created["id"], "completed", final["request_counts"])
    assert (data["object"], set(data), data["completed_at"]) == ("batch", set(final), final["completed_at"])
    assert final["request_counts"] == {"total": 40, "completed": 35, "failed": 5}
    assert data["output_url"] is not None
