"""Batches through the real handlers on moto: validation in steps, chunks, counts, files, cancel, faults.

A small step size (4 KiB) and chunk size (20 lines) make a few hundred lines take several validation
steps and many chunk messages, so continuation and counting are exercised as a large file would be.
"""

import json
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest

from shared.api.schemas import BatchOut
from shared.batches import validation
from shared.batches.models import BatchStatus
from shared.batches.service import NewBatch
from shared.errors import ConflictError
from shared.services import batch_finalizer, batch_service, batch_store, delivery_store, download_url, upload_service
from shared.settings import bucket_settings
from shared.uploads.models import Purpose
from tests.conftest import Credential
from tests.support.onnx_models import linear_model, linear_schemas
from tests.support.receiver import receiver
from tests.support.registry_flow import register, store_unchecked_version, upload_file
from tools.lambda_runtime import invoke_function
from tools.provision import Stack
from tools.sqs_events import lambda_event

TENANT = "acme"
W = [[1.0, 0.5], [-2.0, 0.25], [0.5, 3.0]]
B = [0.1, -0.2]
CONSUMERS = {"BatchesQueue": "ProcessBatchesFunction", "PredictionsQueue": "RunPredictionsFunction"}


@pytest.fixture(autouse=True)
def small_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BATCH_STEP_BYTES", "4096")
    monkeypatch.setenv("BATCH_CHUNK_LINES", "20")


def jsonl(lines: list[Any]) -> bytes:
    return b"".join((line if isinstance(line, bytes) else json.dumps(line).encode()) + b"\n" for line in lines)


def upload(data: bytes, tenant: str = TENANT) -> str:
    created, _presigned = upload_service().create(tenant, Purpose.BATCH_INPUT, "application/jsonl", len(data))
    boto3.client("s3").put_object(
        Bucket=bucket_settings().bucket_name, Key=created.key, Body=data, ContentType="application/jsonl"
    )
    return created.id


def create(data: bytes, model: str = "sentiment", **extra: Any) -> str:
    return batch_service().create(TENANT, NewBatch(model, upload(data), **extra)).id


def receive(stack: Stack, queue: str, hide_seconds: int = 0) -> list[dict[str, Any]]:
    """Up to ten messages; they stay visible (to be delivered again) unless ``hide_seconds`` is given."""
    response = boto3.client("sqs").receive_message(
        QueueUrl=stack.refs[queue],
        MaxNumberOfMessages=10,
        MessageAttributeNames=["All"],
        VisibilityTimeout=hide_seconds,
    )
    return [dict(m) for m in response.get("Messages", [])]


def deliver(stack: Stack, queue: str, messages: list[dict[str, Any]], delete: bool = True) -> None:
    """Invoke the queue's consumer as the SQS trigger would; what succeeded is deleted."""
    for message in messages:  # one record per event: BatchesQueue's batch size, and simple to reason about
        result = invoke_function(CONSUMERS[queue], lambda_event([message], stack.arns[queue], "us-east-1"))
        assert result == {"batchItemFailures": []}, result
        if delete:
            boto3.client("sqs").delete_message(QueueUrl=stack.refs[queue], ReceiptHandle=message["ReceiptHandle"])


def pump(stack: Stack, batch_id: str, rounds: int = 200) -> Iterator[tuple[int, int, int]]:
    """Run both queues until they are empty; yields the batch's counts after every delivery round."""
    for _ in range(rounds):
        moved = False
        for queue in CONSUMERS:
            messages = receive(stack, queue)
            if messages:
                moved = True
                deliver(stack, queue, messages)
                counts = batch_store().get(TENANT, batch_id).counts
                yield counts.total, counts.completed, counts.failed
        if not moved:
            return
    raise AssertionError("the queues never drained")


def download(url: str) -> list[dict[str, Any]]:
    # moto answers presigned GETs of its own (mocked) endpoint through boto3's stubbed transport only,
    # so the file is read with the SDK after checking the URL names the object.
    assert "X-Amz-Signature=" in url
    bucket = bucket_settings().bucket_name
    key = httpx.URL(url).path.lstrip("/").removeprefix(f"{bucket}/")  # virtual-hosted or path style
    body = boto3.client("s3").get_object(Bucket=bucket_settings().bucket_name, Key=key)["Body"].read()
    return [json.loads(line) for line in body.decode().splitlines()]


def files(batch_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    out = BatchOut.of(batch_store().get(TENANT, batch_id), download_url)
    assert out.output_url is not None
    assert out.errors_url is not None
    return download(out.output_url), download(out.errors_url)


def mixed_lines(count: int) -> list[dict[str, Any]]:
    """Every 10th line's input breaks the sentiment schema (no text); the rest are valid."""
    return [
        {"custom_id": f"row-{n}", "input": {"txt": "no"} if n % 10 == 0 else {"text": "A wonderful day!"}}
        for n in range(1, count + 1)
    ]


def test_a_batch_is_validated_in_steps_runs_in_chunks_and_completes_with_exact_counts_and_files(
    stack: Stack,
) -> None:
    lines = mixed_lines(250)
    batch_id = create(jsonl(lines), metadata={"set": "reviews"})

    seen = list(pump(stack, batch_id))

    batch = batch_store().get(TENANT, batch_id)
    assert batch.status is BatchStatus.COMPLETED
    assert (batch.counts.total, batch.counts.completed, batch.counts.failed) == (250, 225, 25)
    assert batch.chunks_total is not None
    assert batch.chunks_total >= 13
    totals = [total for total, _, _ in seen if total]
    assert totals
    assert set(totals) == {250}
    progress = [(completed, failed) for _, completed, failed in seen]
    assert progress == sorted(progress)  # only grows
    assert all(completed + failed <= 250 for completed, failed in progress)
    outputs, errors = files(batch_id)
    assert len(outputs) == 225
    assert len(errors) == 25
    ids = [row["custom_id"] for row in outputs + errors]
    assert sorted(ids) == sorted(line["custom_id"] for line in lines)  # each exactly once
    assert all(row["output"]["label"] == "positive" for row in outputs)
    [tenth] = [row for row in errors if row["custom_id"] == "row-10"]
    assert tenth["error"]["code"] == "invalid_input"
    assert tenth["error"]["message"].startswith("Line 10: ")


def test_duplicate_custom_ids_fail_the_file_at_validation_with_their_line_numbers_and_nothing_runs(
    stack: Stack,
) -> None:
    lines = mixed_lines(120)
    lines[99]["custom_id"] = "row-3"  # line 100 repeats line 3, in a later validation step
    lines[100]["custom_id"] = "row-3"
    batch_id = create(jsonl(lines))

    list(pump(stack, batch_id))

    batch = batch_store().get(TENANT, batch_id)
    assert batch.status is BatchStatus.FAILED
    assert [(p.line, p.code) for p in batch.errors] == [(100, "duplicate_custom_id"), (101, "duplicate_custom_id")]
    assert (batch.counts.total, batch.counts.completed, batch.counts.failed) == (0, 0, 0)
    assert batch.output_key is None
    assert batch.ran_chunks == frozenset()


def test_a_file_that_is_not_jsonl_fails_with_each_bad_line_numbered(stack: Stack) -> None:
    data = jsonl([{"custom_id": "a", "input": {"text": "x"}}, b"not json", b"[1, 2]", {"input": {"text": "x"}}])
    batch_id = create(data)

    list(pump(stack, batch_id))

    batch = batch_store().get(TENANT, batch_id)
    assert batch.status is BatchStatus.FAILED
    assert [(p.line, p.code) for p in batch.errors] == [
        (2, "invalid_json"),
        (3, "not_an_object"),
        (4, "invalid_custom_id"),
    ]


def test_an_empty_file_fails(stack: Stack) -> None:
    batch_id = create(b"\n\n")

    list(pump(stack, batch_id))

    batch = batch_store().get(TENANT, batch_id)
    assert (batch.status, [p.code for p in batch.errors]) == (BatchStatus.FAILED, ["empty_file"])


def test_every_message_delivered_twice_still_gives_one_output_line_per_custom_id(stack: Stack) -> None:
    lines = mixed_lines(100)
    batch_id = create(jsonl(lines))

    for _ in range(100):  # each message is delivered twice: once kept, then again and deleted
        moved = False
        for queue in CONSUMERS:
            messages = receive(stack, queue)
            if messages:
                moved = True
                deliver(stack, queue, messages, delete=False)
                deliver(stack, queue, messages)
        if not moved:
            break

    batch = batch_store().get(TENANT, batch_id)
    assert batch.status is BatchStatus.COMPLETED
    assert (batch.counts.total, batch.counts.completed, batch.counts.failed) == (100, 90, 10)
    outputs, errors = files(batch_id)
    ids = [row["custom_id"] for row in outputs + errors]
    assert len(ids) == len(set(ids)) == 100


def test_cancel_mid_way_keeps_what_finished_and_runs_nothing_else(stack: Stack) -> None:
    lines = mixed_lines(200)
    batch_id = create(jsonl(lines))
    while batch_store().get(TENANT, batch_id).status is BatchStatus.VALIDATING:
        deliver(stack, "BatchesQueue", receive(stack, "BatchesQueue"))
    chunks: list[dict[str, Any]] = []
    while len(chunks) < batch_store().get(TENANT, batch_id).chunks_total:  # type: ignore[operator]
        chunks += receive(stack, "PredictionsQueue", hide_seconds=300)
    deliver(stack, "PredictionsQueue", chunks[:3])  # three chunks run

    canceling = batch_service().cancel(TENANT, batch_id)
    deliver(stack, "PredictionsQueue", chunks[3:])  # the rest arrive after the cancel
    list(pump(stack, batch_id))

    batch = batch_store().get(TENANT, batch_id)
    assert canceling.status is BatchStatus.CANCELING
    assert batch.status is BatchStatus.CANCELED
    assert batch.counts.total == 200
    assert len(batch.ran_chunks) == 3
    outputs, errors = files(batch_id)
    assert len(outputs) == batch.counts.completed
    assert len(errors) == batch.counts.failed
    assert 0 < batch.counts.completed + batch.counts.failed < 200
    assert batch_service().cancel(TENANT, batch_id).status is BatchStatus.CANCELED  # unchanged once final


def test_a_batch_canceled_while_validating_ends_canceled_without_files(stack: Stack) -> None:
    batch_id = create(jsonl(mixed_lines(50)))

    batch_service().cancel(TENANT, batch_id)
    list(pump(stack, batch_id))

    batch = batch_store().get(TENANT, batch_id)
    assert (batch.status, batch.output_key, batch.counts.completed) == (BatchStatus.CANCELED, None, 0)


def test_the_same_idempotency_key_returns_the_batch_and_another_body_conflicts(stack: Stack) -> None:
    upload_id = upload(jsonl(mixed_lines(5)))
    first = batch_service().create(TENANT, NewBatch("sentiment", upload_id), "key-1")
    again = batch_service().create(TENANT, NewBatch("sentiment", upload_id), "key-1")

    with pytest.raises(ConflictError):
        batch_service().create(TENANT, NewBatch("echo", upload_id), "key-1")
    assert again.id == first.id
    assert [b.id for b in batch_service().list(TENANT, 10, None).items] == [first.id]
    assert len(receive(stack, "BatchesQueue")) == 1


def test_finalizing_twice_writes_one_batch_completed_webhook(stack: Stack) -> None:
    batch_id = create(jsonl(mixed_lines(30)), webhook="https://hooks.example.com/batches")
    list(pump(stack, batch_id))

    again = batch_finalizer().finish(batch_store().get(TENANT, batch_id))

    deliveries = delivery_store().list_for_prediction(TENANT, batch_id)
    assert again is None
    assert [d.event.value for d in deliveries] == ["batch.completed"]


def test_a_file_over_the_line_limit_fails_at_the_first_line_too_many(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(validation, "MAX_LINES", 30)  # 50,000 in production: the same check, sooner
    batch_id = create(jsonl(mixed_lines(45)))

    list(pump(stack, batch_id))

    batch = batch_store().get(TENANT, batch_id)
    assert batch.status is BatchStatus.FAILED
    assert [(p.line, p.code) for p in batch.errors] == [(31, "too_many_lines")]


def test_a_redelivered_old_validation_step_changes_nothing(stack: Stack) -> None:
    batch_id = create(jsonl(mixed_lines(150)))  # several 4 KiB steps
    [first_step] = receive(stack, "BatchesQueue", hide_seconds=300)
    deliver(stack, "BatchesQueue", [first_step])
    list(pump(stack, batch_id))
    done = batch_store().get(TENANT, batch_id)

    deliver(stack, "BatchesQueue", [first_step], delete=False)  # a very late duplicate of step one

    assert done.status is BatchStatus.COMPLETED
    assert batch_store().get(TENANT, batch_id) == done
    assert receive(stack, "BatchesQueue") == []
    assert receive(stack, "PredictionsQueue") == []


@pytest.mark.parametrize("poison", ["itself", "loopback URL"])
def test_a_batch_on_a_version_whose_stored_schema_cannot_be_evaluated_finishes_with_every_line_failed(
    stack: Stack, admin: Credential, poison: str
) -> None:
    registered = register(admin.secret, "linear", upload_file(admin.secret, linear_model(W, B)), linear_schemas(3))
    assert registered["statusCode"] == 201, registered
    with receiver() as listener:
        schema = {"$ref": "#", "type": "object"} if poison == "itself" else {"$ref": f"{listener.url}/s.json"}
        version = store_unchecked_version(TENANT, "linear", schema)
        lines: list[dict[str, Any]] = [{"custom_id": f"row-{n}", "input": {"x": [1.0, 2.0, 3.0]}} for n in range(1, 31)]
        batch_id = create(jsonl(lines), model=f"linear:{version}")

        list(pump(stack, batch_id))  # every delivery succeeds (no redelivery), or pump fails

        assert listener.requests == []
    batch = batch_store().get(TENANT, batch_id)
    assert batch.status is BatchStatus.COMPLETED
    assert (batch.counts.total, batch.counts.completed, batch.counts.failed) == (30, 0, 30)
    out = BatchOut.of(batch, download_url)
    assert out.errors_url is not None
    errors = download(out.errors_url)
    assert sorted(row["custom_id"] for row in errors) == sorted(line["custom_id"] for line in lines)
    assert {row["error"]["code"] for row in errors} == {"invalid_schema"}
    [first] = [row for row in errors if row["custom_id"] == "row-1"]
    assert first["error"]["message"].startswith(
        f"Line 1: The input cannot be checked against the input schema of version {version}"
    )
