"""The ``infergate`` client library against the local stack over real HTTP, as an application would use it."""

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from infergate import (
    AsyncInfergate,
    Batch,
    Infergate,
    InvalidInput,
    NotFound,
    Unauthorized,
    WebhookVerificationError,
    webhooks,
)

from tests.e2e.conftest import ADMIN_KEY, LocalStack, running_stack
from tests.support.onnx_models import linear_expected, linear_model, linear_schemas
from tests.support.receiver import receiver

pytestmark = pytest.mark.e2e

W = [[1.0, 0.5], [-2.0, 0.25], [0.5, 3.0], [0.0, 1.0]]
B = [0.1, -0.2]
X = [1.5, -2.0, 4.0, 0.5]


@pytest.fixture
def client(local_stack: LocalStack) -> Iterator[Infergate]:
    with Infergate(local_stack.base_url, ADMIN_KEY) as client:
        yield client


def test_run_answers_a_builtin_models_output(client: Infergate) -> None:
    output = client.run("sentiment", {"text": "Infergate makes serving models easy!"}, timeout=30)

    assert output["label"] == "positive"
    assert output["compound"] > 0


def test_a_prediction_is_created_got_waited_for_and_listed(client: Infergate) -> None:
    created = client.predictions.create("sentiment", {"text": "The service was terrible."}, metadata={"t": "1"})
    final = client.predictions.wait(created.id, timeout=30, poll_interval=0.2)
    got = client.predictions.get(created.id)
    listed = [p.id for p in client.predictions.list(limit=50, page_size=2)]

    assert created.status in ("starting", "processing", "succeeded")
    assert final.status == "succeeded"
    assert final.output is not None
    assert final.output["label"] == "negative"
    assert (got.id, got.status, got.metadata) == (created.id, "succeeded", {"t": "1"})
    assert created.id in listed
    assert len(listed) == len(set(listed))  # the pages of two follow each other without repeats


def test_a_held_create_answers_the_finished_prediction(client: Infergate) -> None:
    held = client.predictions.create("echo", {"n": 1}, wait=10)

    assert held.status == "succeeded"
    assert held.output == {"n": 1}


def test_cancelling_a_finished_prediction_returns_it_unchanged(client: Infergate) -> None:
    done = client.predictions.create("echo", {"n": 2}, wait=10)

    cancelled = client.predictions.cancel(done.id)

    assert (cancelled.id, cancelled.status, cancelled.output) == (done.id, "succeeded", {"n": 2})


def test_an_input_off_the_schema_is_invalid_input_naming_the_field(client: Infergate) -> None:
    with pytest.raises(InvalidInput) as raised:
        client.predictions.create("sentiment", {"text": 3})

    assert raised.value.status == 422
    assert raised.value.type == "urn:infergate:problem:invalid-model-input"
    assert [e.pointer for e in raised.value.errors] == ["/input/text"]
    assert raised.value.request_id


def test_an_unknown_model_is_not_found(client: Infergate) -> None:
    with pytest.raises(NotFound):
        client.models.get("no-such-model")


def test_models_are_listed_got_and_predicted_synchronously(client: Infergate) -> None:
    names = [model.name for model in client.models.list()]
    iris = client.models.get("iris")
    pinned = client.models.get("iris", version=1)
    answer = client.models.predict("iris", {"features": [5.1, 3.5, 1.4, 0.2]})

    assert {"echo", "sentiment", "iris"} <= set(names)
    assert iris.latest_version == 1
    assert [v.version for v in pinned.versions] == [1]
    assert (answer.model, answer.version, answer.output["label"]) == ("iris", 1, "setosa")


def test_push_uploads_and_registers_an_onnx_model_that_then_serves(client: Infergate, tmp_path: Path) -> None:
    path = tmp_path / "linear.onnx"
    path.write_bytes(linear_model(W, B))
    input_schema, output_schema = linear_schemas(4)

    version = client.models.push(
        "client-linear", path, input_schema=input_schema, output_schema=output_schema, description="y = xW + b"
    )
    answer = client.models.predict("client-linear", {"x": X}, version=version.version)
    queued = client.run("client-linear", {"x": X}, timeout=30)

    assert (version.version, version.runtime) == (1, "onnx")
    assert version.artifact is not None
    assert version.artifact.size == path.stat().st_size
    assert answer.output["y"] == pytest.approx(linear_expected(W, B, X), rel=1e-6)
    assert queued == answer.output


def test_a_batch_from_rows_is_waited_for_with_progress_and_its_results_read(client: Infergate) -> None:
    rows = [{"custom_id": f"r-{n}", "input": {"text": "Lovely day!"}} for n in range(5)]
    rows.append({"custom_id": "bad", "input": {"words": "no text"}})
    seen: list[Batch] = []

    created = client.batches.create("sentiment", rows, metadata={"from": "rows"})
    final = client.batches.wait(created.id, on_progress=seen.append, timeout=120, poll_interval=0.2)
    results = list(client.batches.results(created.id))
    listed = [batch.id for batch in client.batches.list(limit=20)]

    assert final.status == "completed"
    assert (final.request_counts.total, final.request_counts.completed, final.request_counts.failed) == (6, 5, 1)
    assert seen[-1].status == "completed"
    assert len(seen) >= 2
    outputs = {line["custom_id"]: line for line in results if "output" in line}
    errors = {line["custom_id"]: line for line in results if line.get("error")}
    assert set(outputs) == {f"r-{n}" for n in range(5)}
    assert {o["output"]["label"] for o in outputs.values()} == {"positive"}
    assert set(errors) == {"bad"}
    assert errors["bad"]["error"]["code"] == "invalid_input"
    assert created.id in listed


def test_a_batch_from_a_jsonl_file(client: Infergate, tmp_path: Path) -> None:
    path = tmp_path / "lines.jsonl"
    path.write_text("".join(json.dumps({"custom_id": f"e-{n}", "input": {"n": n}}) + "\n" for n in range(3)))

    created = client.batches.create("echo", path=path)
    final = client.batches.wait(created.id, timeout=120, poll_interval=0.2)
    outputs = sorted(client.batches.results(created.id, kind="output"), key=lambda line: str(line["custom_id"]))

    assert final.status == "completed"
    assert [(line["custom_id"], line["output"]) for line in outputs] == [(f"e-{n}", {"n": n}) for n in range(3)]


def test_a_key_is_created_listed_used_and_revoked(local_stack: LocalStack, client: Infergate) -> None:
    created = client.keys.create("client-e2e", ["predict"])
    listed = {key.id: key for key in client.keys.list()}
    with Infergate(local_stack.base_url, created.key, max_retries=0) as app:
        used = app.run("echo", {"ok": True}, timeout=30)
        client.keys.revoke(created.id)
        with pytest.raises(Unauthorized) as refused:
            app.models.list()

    assert created.key.startswith("igk_")
    assert listed[created.id].name == "client-e2e"
    assert listed[created.id].last4 == created.key[-4:]
    assert used == {"ok": True}
    assert refused.value.status == 401
    assert created.id not in {key.id for key in client.keys.list()}


def test_the_webhook_secret_is_read_and_rotated(client: Infergate) -> None:
    before = client.webhooks.secret()
    rotated = client.webhooks.rotate()
    after = client.webhooks.secret()

    assert before.key.startswith("whsec_")
    assert rotated.key.startswith("whsec_")
    assert rotated.key != before.key
    assert after.key == rotated.key
    body = b'{"type": "prediction.completed"}'
    headers = _signed(body, after.key)
    assert webhooks.verify(body, headers, after.key) == {"type": "prediction.completed"}


@pytest.fixture(scope="module")
def webhook_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """The local stack with loopback webhook receivers allowed (``make dev``'s WEBHOOKS_ALLOW_INSECURE)."""
    with running_stack(tmp_path_factory.mktemp("client-webhooks"), {"WEBHOOKS_ALLOW_INSECURE": "true"}) as stack:
        yield stack


def test_a_real_delivery_verifies_with_the_tenants_secret(webhook_stack: LocalStack) -> None:
    with receiver() as target, Infergate(webhook_stack.base_url, ADMIN_KEY) as client:
        secret = client.webhooks.secret().key
        created = client.predictions.create("echo", {"n": 7}, webhook=target.url)
        final = client.predictions.wait(created.id, timeout=30, poll_interval=0.2)
        deadline = time.monotonic() + 30
        while not target.requests and time.monotonic() < deadline:
            time.sleep(0.1)

    [delivery] = target.requests
    payload = webhooks.verify(delivery.body.encode(), delivery.headers, secret)
    assert payload["type"] == "prediction.completed"
    assert payload["data"]["id"] == final.id
    assert payload["data"]["output"] == {"n": 7}
    with pytest.raises(WebhookVerificationError):
        webhooks.verify(delivery.body.replace("7", "8").encode(), delivery.headers, secret)


def test_the_async_client_runs_lists_and_streams(local_stack: LocalStack) -> None:
    async def use() -> tuple[dict[str, object], list[str], list[str]]:
        async with AsyncInfergate(local_stack.base_url, ADMIN_KEY) as client:
            outputs = await asyncio.gather(
                client.run("echo", {"n": 1}, timeout=30), client.run("sentiment", {"text": "Great!"}, timeout=30)
            )
            created = await asyncio.gather(*(client.predictions.create("echo", {"n": n}) for n in range(6)))
            ids = [p.id async for p in client.predictions.list(limit=5, page_size=2)]  # three pages followed
            assert set(ids) <= {p.id for p in created}  # newest first: the six just made
            batch = await client.batches.create("echo", [{"custom_id": "a", "input": {"x": 1}}])
            await client.batches.wait(batch.id, timeout=120, poll_interval=0.2)
            lines = [str(line["custom_id"]) async for line in client.batches.results(batch.id)]
            return outputs[0], ids, lines

    echoed, ids, lines = asyncio.run(use())

    assert echoed == {"n": 1}
    assert len(ids) == 5
    assert lines == ["a"]


def _signed(body: bytes, secret: str) -> dict[str, str]:
    """Headers as the service signs a delivery (the reference library's signature)."""
    from datetime import UTC, datetime

    from standardwebhooks.webhooks import Webhook

    now = datetime.now(tz=UTC)
    return {
        "webhook-id": "dlv_e2e",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign("dlv_e2e", now, body.decode()),
    }
