"""The batch as one resource on moto: finalizing, the output and error files it publishes, the completion
window's expiry, listing with OpenAI's ``after``, and batches stored before OpenAI's spellings."""

import json
import os
from datetime import timedelta
from typing import Any

import boto3
import pytest

from shared.adapters.clients import dynamodb_client
from shared.adapters.dynamodb.batches import DynamoBatchStore
from shared.batches import recovery as recovery_module
from shared.batches.models import Batch, BatchStatus, BatchTransition, ChunkOutcome, ChunkResult
from shared.batches.object_keys import output_key
from shared.batches.sweeper import BatchSweepReport
from shared.files.models import FilePurpose
from shared.kernel.clock import from_rfc3339, to_rfc3339, utc_now
from shared.kernel.ids import IdKind, new_id
from shared.kernel.outbox import EventType, PlannedDelivery
from shared.representations import BatchOut
from shared.settings import BucketSettings, settings
from shared.wiring import (
    batch_finalizer,
    batch_service,
    batch_store,
    batch_sweeper,
    delivery_store,
    download_url,
    file_store,
)
from tests.conftest import Credential
from tests.support.batch_queues import (
    TENANT,
    create,
    deliver,
    drop,
    files,
    jsonl,
    mixed_lines,
    pump,
    receive,
    validated_with_chunks_held,
)
from tests.support.events import bearer, response_json
from tests.support.gateway import call
from tools.provision import Stack

WEBHOOK = "https://hooks.example.com/batches"


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """20-line chunks: 60 lines make three."""
    monkeypatch.setenv("BATCH_CHUNK_LINES", "20")


@pytest.fixture
def ten_minute_window(monkeypatch: pytest.MonkeyPatch) -> timedelta:
    """A completion window of ten minutes instead of 24 hours: the same rule, sooner."""
    monkeypatch.setenv("BATCH_COMPLETION_WINDOW_SECONDS", "600")
    return timedelta(minutes=10)


def _with_file_ids(batch_id: str) -> Batch:
    """The output and error file ids a create allocates, on a batch created through the native flow."""
    dynamodb_client().update_item(
        TableName=os.environ["TABLE_NAME"],
        Key={"PK": {"S": f"TENANT#{TENANT}"}, "SK": {"S": f"BATCH#{batch_id}"}},
        UpdateExpression="SET output_file_id = :out, error_file_id = :err",
        ExpressionAttributeValues={":out": {"S": new_id(IdKind.FILE)}, ":err": {"S": new_id(IdKind.FILE)}},
    )
    return batch_store().get(TENANT, batch_id)


def _object_size(key: str) -> int:
    head = boto3.client("s3").head_object(Bucket=settings(BucketSettings).bucket_name, Key=key)
    return head["ContentLength"]


def _wire(batch_id: str) -> dict[str, Any]:
    return BatchOut.of(batch_store().get(TENANT, batch_id), download_url).model_dump(mode="json")


def test_a_finished_batch_went_through_finalizing_and_publishes_its_files(stack: Stack) -> None:
    batch_id = create(jsonl(mixed_lines(30)), webhook=WEBHOOK)
    with_ids = _with_file_ids(batch_id)

    list(pump(stack, batch_id))

    batch = batch_store().get(TENANT, batch_id)
    assert batch.status is BatchStatus.COMPLETED
    assert batch.in_progress_at is not None
    assert batch.finalizing_at is not None
    assert batch.completed_at is not None
    assert batch.created_at <= batch.in_progress_at <= batch.finalizing_at <= batch.completed_at
    output = file_store().get(TENANT, with_ids.output_file_id or "")
    errors = file_store().get(TENANT, with_ids.error_file_id or "")
    assert output is not None
    assert errors is not None
    assert (output.purpose, output.key, output.size) == (
        FilePurpose.BATCH_OUTPUT,
        batch.output_key,
        _object_size(batch.output_key or ""),
    )
    assert (errors.key, errors.size) == (batch.errors_key, _object_size(batch.errors_key or ""))
    assert (output.filename, errors.filename) == (f"{batch_id}_output.jsonl", f"{batch_id}_error.jsonl")
    assert output.expires_at == errors.expires_at == batch.expires_at
    wire = _wire(batch_id)
    assert (wire["output_file_id"], wire["error_file_id"]) == (with_ids.output_file_id, with_ids.error_file_id)
    assert wire["finalizing_at"] == int(from_rfc3339(batch.finalizing_at).timestamp())
    assert wire["completed_at"] == int(from_rfc3339(batch.completed_at).timestamp())
    assert (wire["failed_at"], wire["expired_at"], wire["cancelled_at"]) == (None, None, None)


def test_an_error_file_without_lines_gets_no_file_and_no_id(stack: Stack) -> None:
    valid = [{"custom_id": f"ok-{n}", "input": {"text": "fine"}} for n in range(5)]
    batch_id = create(jsonl(valid))
    with_ids = _with_file_ids(batch_id)

    list(pump(stack, batch_id))

    wire = _wire(batch_id)
    assert (wire["status"], wire["request_counts"]) == ("completed", {"total": 5, "completed": 5, "failed": 0})
    assert (wire["output_file_id"], wire["error_file_id"]) == (with_ids.output_file_id, None)
    assert file_store().get(TENANT, with_ids.error_file_id or "") is None
    assert wire["errors_url"] is not None  # the native download still serves the (empty) file


def test_the_files_are_published_before_the_final_status_and_again_by_a_second_finalizer(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch_id = create(jsonl(mixed_lines(30)), webhook=WEBHOOK)
    with_ids = _with_file_ids(batch_id)
    chunks = validated_with_chunks_held(stack, batch_id)
    original = DynamoBatchStore.transition

    def final_write_fails(self: DynamoBatchStore, batch: Batch, change: BatchTransition) -> Batch:
        if change.status.is_final:
            raise RuntimeError("the finalizer died before its status write")
        return original(self, batch, change)

    monkeypatch.setattr(DynamoBatchStore, "transition", final_write_fails)
    deliver(stack, "PredictionsQueue", chunks)
    assert deliver(stack, "BatchesQueue", receive(stack, "BatchesQueue"), park_failures=True) == 1
    stuck = batch_store().get(TENANT, batch_id)
    published = file_store().get(TENANT, with_ids.output_file_id or "")
    monkeypatch.setattr(DynamoBatchStore, "transition", original)
    again = batch_finalizer().finish(stuck)  # the sweeper's resume does this; the files are written again

    assert stuck.status is BatchStatus.FINALIZING
    assert published is not None
    assert published.key == output_key(stuck)
    assert again is not None
    assert again.status is BatchStatus.COMPLETED
    assert file_store().get(TENANT, with_ids.output_file_id or "") == published
    assert [d.event for d in delivery_store().list_for_prediction(TENANT, batch_id)] == [EventType.BATCH_COMPLETED]


def test_a_batch_part_run_when_its_window_ends_is_expired_with_its_finished_lines_kept(
    stack: Stack, small_chunks: None, ten_minute_window: timedelta, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = mixed_lines(60)
    batch_id = create(jsonl(lines), webhook=WEBHOOK)
    with_ids = _with_file_ids(batch_id)
    chunks = validated_with_chunks_held(stack, batch_id)
    deliver(stack, "PredictionsQueue", chunks[:1])  # one chunk ran; the other two are still to run
    window_ends = from_rfc3339(with_ids.window_ends_at or "")

    # The deadline of a progressing batch never passes its window's end: the sweeper finds it then
    early = batch_sweeper().sweep(window_ends - timedelta(seconds=1))
    report = batch_sweeper().sweep(window_ends + timedelta(seconds=1))
    monkeypatch.setattr(recovery_module, "utc_now", lambda: window_ends + timedelta(seconds=2))
    deliver(stack, "BatchesQueue", receive(stack, "BatchesQueue"))  # the resume finds the window over
    late = ChunkResult(1, completed=18, failed=2)
    late_count = batch_store().count_chunk(TENANT, batch_id, late)  # a worker finishing after the end

    assert (early, report) == (BatchSweepReport(), BatchSweepReport(resumed=1))
    batch = batch_store().get(TENANT, batch_id)
    assert batch.status is BatchStatus.EXPIRED
    assert (batch.counts.total, batch.counts.completed, batch.counts.failed) == (60, 18, 42)
    assert late_count is None
    outputs, errors = files(batch_id)
    assert sorted(row["custom_id"] for row in outputs + errors) == sorted(line["custom_id"] for line in lines)
    assert [row["custom_id"] for row in outputs] == [f"row-{n}" for n in range(1, 21) if n % 10]
    expired = [row for row in errors if row["error"]["code"] == "expired"]
    assert [row["custom_id"] for row in expired] == [line["custom_id"] for line in lines[20:]]
    wire = _wire(batch_id)
    assert wire["status"] == "expired"
    assert wire["expires_at"] == int(window_ends.timestamp())
    assert wire["expired_at"] is not None
    assert wire["completed_at"] is None
    assert wire["completion_window"] == "600s"
    assert (wire["output_file_id"], wire["error_file_id"]) == (with_ids.output_file_id, with_ids.error_file_id)
    assert [d.event for d in delivery_store().list_for_prediction(TENANT, batch_id)] == [EventType.BATCH_COMPLETED]


def test_a_batch_still_validating_when_its_window_ends_is_expired_without_files(
    stack: Stack, ten_minute_window: timedelta, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch_id = create(jsonl(mixed_lines(10)))
    drop(stack, "BatchesQueue")  # its validation step is lost
    window_ends = from_rfc3339(batch_store().get(TENANT, batch_id).window_ends_at or "")

    report = batch_sweeper().sweep(window_ends + timedelta(seconds=1))
    monkeypatch.setattr(recovery_module, "utc_now", lambda: window_ends + timedelta(seconds=2))
    deliver(stack, "BatchesQueue", receive(stack, "BatchesQueue"))

    assert report == BatchSweepReport(resumed=1)
    wire = _wire(batch_id)
    assert (wire["status"], wire["output_url"], wire["request_counts"]["total"]) == ("expired", None, 0)
    assert wire["expired_at"] is not None


def test_a_batch_is_created_with_the_24_hour_window_by_default(stack: Stack) -> None:
    batch = batch_store().get(TENANT, create(jsonl(mixed_lines(3))))

    assert from_rfc3339(batch.window_ends_at or "") - from_rfc3339(batch.created_at) == timedelta(hours=24)
    wire = _wire(batch.id)
    assert (wire["completion_window"], wire["expires_at"] - wire["created_at"]) == ("24h", 86_400)


def test_listing_after_a_batch_id_pages_newest_first_and_keeps_the_signed_cursor(admin: Credential) -> None:
    created = [create(jsonl(mixed_lines(2))) for _ in range(5)]
    newest_first = created[::-1]
    headers = bearer(admin.secret)

    first = response_json(call("GET", "/v1/batches?limit=2", headers=headers))
    second = response_json(call("GET", f"/v1/batches?limit=2&after={first['last_id']}", headers=headers))
    third = response_json(call("GET", f"/v1/batches?limit=2&after={second['last_id']}", headers=headers))
    by_cursor = response_json(call("GET", f"/v1/batches?limit=2&cursor={first['next']}", headers=headers))

    assert (first["object"], first["first_id"], first["last_id"], first["has_more"]) == (
        "list",
        newest_first[0],
        newest_first[1],
        True,
    )
    assert [b["id"] for b in second["data"]] == newest_first[2:4]
    assert second["has_more"] is True
    assert [b["id"] for b in third["data"]] == newest_first[4:]
    assert third["has_more"] is False
    assert (third["next"], third["last_id"]) == (None, newest_first[4])
    assert by_cursor["data"] == second["data"]


def test_listing_after_is_refused_with_a_cursor_or_when_it_is_no_batch_id(admin: Credential) -> None:
    first = response_json(call("GET", "/v1/batches?limit=1", headers=bearer(admin.secret)))
    both = call(
        "GET", f"/v1/batches?after=bat_01JD5YB4W3ZV0B4S8FZ7Q6N9XK&cursor={first['next']}", headers=bearer(admin.secret)
    )
    not_an_id = call("GET", "/v1/batches?after=pred_01JD5YB4W3ZV0B4S8FZ7Q6N9XK", headers=bearer(admin.secret))

    assert (both["statusCode"], not_an_id["statusCode"]) == (400, 400)
    assert "not both" in response_json(both)["detail"]
    assert "not a batch id" in response_json(not_an_id)["detail"]


# A batch as it was stored before OpenAI's spellings and Unix seconds, cancelling, one chunk of two counted.
OLD_BATCH_ID = "bat_01JD5YB4W3ZV0B4S8FZ7Q6N9XA"


def _old_item(status: str, **more: Any) -> dict[str, Any]:
    return {
        "PK": {"S": f"TENANT#{TENANT}"},
        "SK": {"S": f"BATCH#{OLD_BATCH_ID}"},
        "kind": {"S": "batch"},
        "status": {"S": status},
        "model": {"S": "sentiment"},
        "version": {"N": "1"},
        "input_key": {"S": f"uploads/{TENANT}/upl_01JD5YB4W3ZV0B4S8FZ7Q6N9XT"},
        "input_upload_id": {"S": "upl_01JD5YB4W3ZV0B4S8FZ7Q6N9XT"},
        "metadata": {"S": "{}"},
        "webhook": {"S": WEBHOOK},
        "created_at": {"S": "2026-11-21T10:00:00.250Z"},
        "expires_at": {"N": str(int((utc_now() + timedelta(days=7)).timestamp()))},
        "total": {"N": "40"},
        "completed": {"N": "18"},
        "failed": {"N": "2"},
        "chunks_total": {"N": "2"},
        "chunks_done": {"N": "1"},
        "done_chunks": {"NS": ["0"]},
        "ran_chunks": {"NS": ["0"]},
        "errors": {"S": json.dumps([[0, "timeout", "The file could not be validated in time."]])},
        "sweep_pk": {"S": "SWEEP#BATCH"},
        "sweep_at": {"S": "2026-11-21T10:15:00.250Z"},
        **more,
    }


def _put_old(item: dict[str, Any]) -> None:
    dynamodb_client().put_item(TableName=os.environ["TABLE_NAME"], Item=item)


def _stored_status() -> str:
    key = {"PK": {"S": f"TENANT#{TENANT}"}, "SK": {"S": f"BATCH#{OLD_BATCH_ID}"}}
    item = dynamodb_client().get_item(TableName=os.environ["TABLE_NAME"], Key=key)["Item"]
    return item["status"]["S"]


def test_a_batch_stored_canceling_is_read_as_cancelling_and_its_conditional_writes_still_land(stack: Stack) -> None:
    _put_old(_old_item("canceling"))
    store = batch_store()

    read = store.get(TENANT, OLD_BATCH_ID)
    wire = BatchOut.of(read, download_url).model_dump(mode="json")
    counted = store.count_chunk(TENANT, OLD_BATCH_ID, ChunkResult(1, failed=20, outcome=ChunkOutcome.CANCELED))
    deliveries = (PlannedDelivery(new_id(IdKind.DELIVERY), EventType.BATCH_COMPLETED, WEBHOOK, read.expires_at),)
    assert counted is not None
    ended = store.transition(
        counted,
        BatchTransition(BatchStatus.CANCELED, to_rfc3339(utc_now()), expected=read.status, deliveries=deliveries),
    )

    assert read.status is BatchStatus.CANCELING
    assert (wire["status"], wire["created_at"]) == ("cancelling", int(from_rfc3339("2026-11-21T10:00:00Z").timestamp()))
    assert (wire["cancelling_at"], wire["expires_at"], wire["completion_window"]) == (None, None, None)
    assert wire["errors"] == {
        "object": "list",
        "data": [
            {"code": "timeout", "message": "The file could not be validated in time.", "param": None, "line": None}
        ],
    }
    assert (counted.chunks_done, counted.counts.failed) == (2, 22)
    assert ended == store.get(TENANT, OLD_BATCH_ID)
    assert (ended.status, _stored_status()) == (BatchStatus.CANCELED, "cancelled")
    assert [d.event for d in delivery_store().list_for_prediction(TENANT, OLD_BATCH_ID)] == [EventType.BATCH_COMPLETED]


def test_a_batch_stored_canceled_is_read_as_cancelled_with_its_time_on_the_wire(stack: Stack) -> None:
    _put_old(_old_item("canceled", completed_at={"S": "2026-11-21T11:00:00.999Z"}))

    read = batch_store().get(TENANT, OLD_BATCH_ID)
    cancelled = batch_service().cancel(TENANT, OLD_BATCH_ID)  # a final batch comes back as it is
    wire = BatchOut.of(read, download_url).model_dump(mode="json")

    assert (read.status, cancelled) == (BatchStatus.CANCELED, read)
    assert (wire["status"], wire["cancelled_at"], wire["completed_at"]) == (
        "cancelled",
        int(from_rfc3339("2026-11-21T11:00:00Z").timestamp()),
        None,
    )
