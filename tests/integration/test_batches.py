"""Batches through the real handlers on moto: validation in steps, chunks, counts, files, cancel, faults.

A small step size (4 KiB) and chunk size (20 lines) make a few hundred lines take several validation
steps and many chunk messages, so continuation and counting are exercised as a large file would be.
"""

import re
from typing import Any

import pytest

from shared.adapters.sqs import SqsBatchSteps
from shared.batches import validation
from shared.batches.models import BatchStatus
from shared.batches.service import NewBatch
from shared.kernel.errors import ConflictError, TransientError
from shared.wiring import batch_finalizer, batch_service, batch_store, delivery_store
from tests.conftest import Credential
from tests.support.batch_queues import (
    TENANT,
    create,
    deliver,
    files,
    jsonl,
    mixed_lines,
    pump,
    receive,
    upload,
    validated_with_chunks_held,
)
from tests.support.onnx_models import linear_model, linear_schemas
from tests.support.receiver import receiver
from tests.support.registry_flow import register, store_unchecked_version, upload_file
from tests.support.timing import finishes_within
from tools.provision import Stack

W = [[1.0, 0.5], [-2.0, 0.25], [0.5, 3.0]]
B = [0.1, -0.2]


@pytest.fixture(autouse=True)
def small_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BATCH_STEP_BYTES", "4096")
    monkeypatch.setenv("BATCH_CHUNK_LINES", "20")


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


def test_a_file_that_starts_with_a_utf8_byte_order_mark_runs_every_line(stack: Stack) -> None:
    lines = mixed_lines(50)
    batch_id = create(b"\xef\xbb\xbf" + jsonl(lines))  # as Notepad and Excel save "UTF-8"

    list(pump(stack, batch_id))

    batch = batch_store().get(TENANT, batch_id)
    assert (batch.status, batch.errors) == (BatchStatus.COMPLETED, ())
    assert (batch.counts.total, batch.counts.completed, batch.counts.failed) == (50, 45, 5)
    outputs, errors = files(batch_id)
    assert sorted(row["custom_id"] for row in outputs + errors) == sorted(line["custom_id"] for line in lines)
    assert [row["output"]["label"] for row in outputs if row["custom_id"] == "row-1"] == ["positive"]


def test_a_byte_order_mark_inside_the_file_fails_its_line_saying_so(stack: Stack) -> None:
    data = jsonl(mixed_lines(3)) + b"\xef\xbb\xbf" + jsonl([{"custom_id": "row-4", "input": {"text": "x"}}])
    batch_id = create(data)

    list(pump(stack, batch_id))

    batch = batch_store().get(TENANT, batch_id)
    assert batch.status is BatchStatus.FAILED
    [problem] = batch.errors
    assert (problem.line, problem.code) == (4, "invalid_json")
    assert "byte-order mark" in problem.message


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


def test_a_line_with_a_duplicate_key_fails_the_file(stack: Stack) -> None:
    """`{"input": {"text": "good", "text": "bad"}}` would otherwise run on "bad" alone, silently."""
    data = jsonl(
        [{"custom_id": "a", "input": {"text": "x"}}, b'{"custom_id": "b", "input": {"text": "x", "text": "y"}}']
    )
    batch_id = create(data)

    list(pump(stack, batch_id))

    batch = batch_store().get(TENANT, batch_id)
    assert batch.status is BatchStatus.FAILED
    assert [(p.line, p.code, p.message) for p in batch.errors] == [
        (
            2,
            "duplicate_key",
            'The line is not valid JSON: the key "text" appears more than once in one object (at /input/text).',
        )
    ]
    assert batch.ran_chunks == frozenset()


def test_an_empty_file_fails(stack: Stack) -> None:
    batch_id = create(b"\n\n")

    list(pump(stack, batch_id))

    batch = batch_store().get(TENANT, batch_id)
    assert (batch.status, [p.code for p in batch.errors]) == (BatchStatus.FAILED, ["empty_file"])


def test_every_message_delivered_twice_still_gives_one_output_line_per_custom_id(stack: Stack) -> None:
    lines = mixed_lines(100)
    batch_id = create(jsonl(lines))

    list(pump(stack, batch_id, twice=True))  # each message: once kept, then again and deleted

    batch = batch_store().get(TENANT, batch_id)
    assert batch.status is BatchStatus.COMPLETED
    assert (batch.counts.total, batch.counts.completed, batch.counts.failed) == (100, 90, 10)
    outputs, errors = files(batch_id)
    ids = [row["custom_id"] for row in outputs + errors]
    assert len(ids) == len(set(ids)) == 100


def test_cancel_mid_way_keeps_what_finished_and_fails_the_rest_as_canceled(stack: Stack) -> None:
    lines = mixed_lines(200)
    batch_id = create(jsonl(lines))
    chunks = validated_with_chunks_held(stack, batch_id)
    deliver(stack, "PredictionsQueue", chunks[:3])  # three chunks run

    canceling = batch_service().cancel(TENANT, batch_id)
    deliver(stack, "PredictionsQueue", chunks[3:])  # the rest arrive after the cancel
    list(pump(stack, batch_id))

    batch = batch_store().get(TENANT, batch_id)
    assert canceling.status is BatchStatus.CANCELING
    assert batch.status is BatchStatus.CANCELED
    assert len(batch.ran_chunks) == 3
    assert (batch.counts.total, batch.counts.completed, batch.counts.failed) == (200, 54, 146)  # 60 lines ran
    outputs, errors = files(batch_id)
    assert (len(outputs), len(errors)) == (54, 146)
    assert sorted(row["custom_id"] for row in outputs + errors) == sorted(line["custom_id"] for line in lines)
    canceled = [row for row in errors if row["error"]["code"] == "canceled"]
    assert [row["custom_id"] for row in canceled] == [line["custom_id"] for line in lines[60:]]  # in file order
    assert canceled[0]["error"]["message"] == "The batch was canceled before this line ran."
    assert batch_service().cancel(TENANT, batch_id).status is BatchStatus.CANCELED  # unchanged once final


def test_a_batch_canceled_before_any_chunk_ran_has_every_line_in_its_error_file(stack: Stack) -> None:
    lines = mixed_lines(100)
    batch_id = create(jsonl(lines))
    chunks = validated_with_chunks_held(stack, batch_id)

    batch_service().cancel(TENANT, batch_id)
    deliver(stack, "PredictionsQueue", chunks)
    list(pump(stack, batch_id))

    batch = batch_store().get(TENANT, batch_id)
    assert batch.status is BatchStatus.CANCELED
    assert (batch.counts.total, batch.counts.completed, batch.counts.failed) == (100, 0, 100)
    outputs, errors = files(batch_id)
    assert outputs == []
    assert [row["custom_id"] for row in errors] == [line["custom_id"] for line in lines]
    assert {row["error"]["code"] for row in errors} == {"canceled"}


def test_a_cancel_that_comes_after_every_line_ran_leaves_the_batch_completed(stack: Stack) -> None:
    lines = mixed_lines(100)
    batch_id = create(jsonl(lines), webhook="https://hooks.example.com/batches")
    chunks = validated_with_chunks_held(stack, batch_id)
    deliver(stack, "PredictionsQueue", chunks)  # every chunk ran; the finalize step is still queued

    canceling = batch_service().cancel(TENANT, batch_id)
    list(pump(stack, batch_id))

    batch = batch_store().get(TENANT, batch_id)
    assert canceling.status is BatchStatus.CANCELING
    assert batch.status is BatchStatus.COMPLETED
    assert (batch.counts.total, batch.counts.completed, batch.counts.failed) == (100, 90, 10)
    outputs, errors = files(batch_id)
    assert sorted(row["custom_id"] for row in outputs + errors) == sorted(line["custom_id"] for line in lines)
    assert [d.event.value for d in delivery_store().list_for_prediction(TENANT, batch_id)] == ["batch.completed"]


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


def test_a_key_whose_batch_the_queue_refused_creates_a_new_batch_on_retry(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    upload_id = upload(jsonl(mixed_lines(3)))
    send = SqsBatchSteps.validate

    def queue_down(self: SqsBatchSteps, tenant: str, batch_id: str, offset: int, line: int) -> None:
        raise TransientError("the batches queue is unavailable")

    monkeypatch.setattr(SqsBatchSteps, "validate", queue_down)
    with pytest.raises(TransientError):
        batch_service().create(TENANT, NewBatch("sentiment", upload_id), "key-2")
    monkeypatch.setattr(SqsBatchSteps, "validate", send)
    retried = batch_service().create(TENANT, NewBatch("sentiment", upload_id), "key-2")
    replayed = batch_service().create(TENANT, NewBatch("sentiment", upload_id), "key-2")

    listed = batch_service().list(TENANT, 10, None).items
    assert replayed.id == retried.id
    assert [(b.id, b.status) for b in listed] == [
        (retried.id, BatchStatus.VALIDATING),
        (listed[1].id, BatchStatus.FAILED),  # the refused one, failed for the record
    ]
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
    _, errors = files(batch_id)
    assert sorted(row["custom_id"] for row in errors) == sorted(line["custom_id"] for line in lines)
    assert {row["error"]["code"] for row in errors} == {"invalid_schema"}
    [first] = [row for row in errors if row["custom_id"] == "row-1"]
    assert first["error"]["message"].startswith(
        f"Line 1: The input cannot be checked against the input schema of version {version}"
    )


def test_a_batch_on_a_schema_costly_to_evaluate_fails_its_lines_without_holding_the_worker(
    stack: Stack, admin: Credential
) -> None:
    # Registrable: 3,000 patternProperties, and each line's 10,000 other names are searched against all of
    # them (over two minutes a line before the work inside keywords was charged).
    input_schema, output_schema = linear_schemas(3)
    schemas = ({**input_schema, "patternProperties": {f"^q{i}z$": {} for i in range(3_000)}}, output_schema)
    registered = register(admin.secret, "linear", upload_file(admin.secret, linear_model(W, B)), schemas)
    assert registered["statusCode"] == 201, registered
    hostile = {"x": [1.0, 2.0, 3.0], **{f"k{i}": 1 for i in range(10_000)}}
    lines: list[dict[str, Any]] = [{"custom_id": f"row-{n}", "input": hostile} for n in range(1, 4)]
    lines.append({"custom_id": "row-4", "input": {"x": [1.0, 2.0, 3.0]}})
    batch_id = create(jsonl(lines), model="linear")

    finishes_within(120, lambda: list(pump(stack, batch_id)))  # every delivery succeeds (no redelivery)

    batch = batch_store().get(TENANT, batch_id)
    assert batch.status is BatchStatus.COMPLETED
    assert (batch.counts.total, batch.counts.completed, batch.counts.failed) == (4, 1, 3)
    outputs, errors = files(batch_id)
    assert [row["custom_id"] for row in outputs] == ["row-4"]
    assert sorted((row["custom_id"], row["error"]["code"]) for row in errors) == [
        ("row-1", "invalid_schema"),
        ("row-2", "invalid_schema"),
        ("row-3", "invalid_schema"),
    ]
    # the step budget or, on a slow machine, the wall-clock net stops it first: both are the line's own error
    assert all(re.search("takes too (many steps|long)", row["error"]["message"]) for row in errors)


def test_the_lines_of_a_chunk_not_checked_within_its_validation_time_fail_with_timeout(
    stack: Stack, admin: Credential, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BATCH_CHUNK_VALIDATION_SECONDS", "0.000001")  # 10 s in production: spent at once
    registered = register(admin.secret, "linear", upload_file(admin.secret, linear_model(W, B)), linear_schemas(3))
    assert registered["statusCode"] == 201, registered
    lines: list[dict[str, Any]] = [{"custom_id": f"row-{n}", "input": {"x": [1.0, 2.0, 3.0]}} for n in range(1, 11)]
    batch_id = create(jsonl(lines), model="linear")

    list(pump(stack, batch_id))

    batch = batch_store().get(TENANT, batch_id)
    assert batch.status is BatchStatus.COMPLETED
    assert (batch.counts.total, batch.counts.completed, batch.counts.failed) == (10, 0, 10)
    outputs, errors = files(batch_id)
    assert outputs == []
    assert sorted(row["custom_id"] for row in errors) == sorted(line["custom_id"] for line in lines)
    later = [row for row in errors if row["custom_id"] != "row-1"]  # the first may start before the limit
    assert {row["error"]["code"] for row in later} == {"timeout"}
    [second] = [row for row in errors if row["custom_id"] == "row-2"]
    assert second["error"]["message"] == "Line 2: not checked against the input schema within 1e-06 s."
