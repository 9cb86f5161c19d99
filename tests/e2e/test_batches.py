"""Batches over the local stack: a JSONL file PUT to its presigned URL, real pollers, presigned downloads."""

import time

import pytest

from tests.e2e.conftest import LocalStack, mint_key
from tests.support.batch_flow import create, download, jsonl, mixed, unsigned, upload, watch

pytestmark = pytest.mark.e2e


def test_a_2000_line_batch_completes_with_exact_counts_and_complete_files(local_stack: LocalStack) -> None:
    lines = mixed(2000)
    with local_stack.client(local_stack.admin_key) as client:
        created = create(client, jsonl(lines), metadata={"dataset": "reviews"})
        seen = watch(client, created["id"])
        listed = client.get("/v1/batches").json()["data"]

    final = seen[-1]
    assert created["status"] == "validating"
    assert final["status"] == "completed", final
    assert final["request_counts"] == {"total": 2000, "completed": 1750, "failed": 250}
    assert final["metadata"] == {"dataset": "reviews"}
    statuses = [s["status"] for s in seen]
    assert statuses == sorted(statuses, key=["validating", "in_progress", "finalizing", "completed"].index)  # forward
    assert final["created_at"] <= final["in_progress_at"] <= final["finalizing_at"] <= final["completed_at"]
    counts = [(s["request_counts"]["completed"], s["request_counts"]["failed"]) for s in seen]
    assert counts == sorted(counts)  # counts only grow
    assert all(s["request_counts"]["total"] in (0, 2000) for s in seen)
    assert created["id"] in [b["id"] for b in listed]
    outputs, errors = download(final["output_url"]), download(final["errors_url"])
    assert (len(outputs), len(errors)) == (1750, 250)
    assert sorted(r["custom_id"] for r in outputs + errors) == sorted(line["custom_id"] for line in lines)
    assert {r["output"]["label"] for r in outputs} == {"positive"}
    assert {r["error"]["code"] for r in errors} == {"invalid_input"}
    [eighth] = [r for r in errors if r["custom_id"] == "c-8"]
    assert eighth["error"]["message"].startswith("Line 8: ")


def test_a_file_with_duplicate_custom_ids_fails_at_validation_with_line_numbers(local_stack: LocalStack) -> None:
    lines = mixed(50)
    lines[40]["custom_id"] = "c-2"
    data = jsonl(lines) + b"{not json\n"
    with local_stack.client(local_stack.admin_key) as client:
        created = create(client, data)
        final = watch(client, created["id"])[-1]

    assert final["status"] == "failed"
    assert final["errors"]["object"] == "list"
    assert [(e["line"], e["code"]) for e in final["errors"]["data"]] == [
        (41, "duplicate_custom_id"),
        (51, "invalid_json"),
    ]
    assert final["request_counts"] == {"total": 0, "completed": 0, "failed": 0}
    assert (final["output_url"], final["errors_url"]) == (None, None)


def test_cancel_mid_way_accounts_for_every_line_in_exactly_one_file(local_stack: LocalStack) -> None:
    lines = [{"custom_id": f"e-{n}", "input": {"n": n}} for n in range(6000)]
    with local_stack.client(local_stack.admin_key) as client:
        created = create(client, jsonl(lines), model="echo")
        while client.get(f"/v1/batches/{created['id']}").json()["status"] == "validating":
            time.sleep(0.05)
        cancelled = client.post(f"/v1/batches/{created['id']}/cancel")
        final = watch(client, created["id"])[-1]
        again = client.post(f"/v1/batches/{created['id']}/cancel").json()

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] in ("cancelling", "finalizing", "completed")  # it may have finished first
    assert unsigned(again) == unsigned(final)  # cancelling a finished batch returns it unchanged
    counts = final["request_counts"]
    outputs, errors = download(final["output_url"]), download(final["errors_url"])
    assert (len(outputs), len(errors)) == (counts["completed"], counts["failed"])
    assert counts["completed"] + counts["failed"] == counts["total"] == 6000
    ids = [r["custom_id"] for r in outputs + errors]
    assert len(ids) == len(set(ids)) == 6000  # every custom_id in exactly one of the two files
    assert all(r["output"] == lines[int(r["custom_id"][2:])]["input"] for r in outputs)
    assert {r["error"]["code"] for r in errors} <= {"canceled"}
    if final["status"] == "cancelled":
        assert errors  # a cancelled batch skipped some lines: they are in the error file
        assert final["completed_at"] is None
        assert final["created_at"] <= final["cancelling_at"] <= final["cancelled_at"]
    else:
        assert (final["status"], errors) == ("completed", [])  # the cancel came after every line ran


def test_a_file_that_starts_with_a_utf8_byte_order_mark_runs(local_stack: LocalStack) -> None:
    lines = mixed(40)
    with local_stack.client(local_stack.admin_key) as client:
        created = create(client, b"\xef\xbb\xbf" + jsonl(lines))  # as Excel's "CSV UTF-8" and Notepad save
        final = watch(client, created["id"])[-1]

    assert final["status"] == "completed", final
    assert final["request_counts"] == {"total": 40, "completed": 35, "failed": 5}
    outputs, errors = download(final["output_url"]), download(final["errors_url"])
    assert sorted(r["custom_id"] for r in outputs + errors) == sorted(line["custom_id"] for line in lines)
    assert [r["output"]["label"] for r in outputs if r["custom_id"] == "c-1"] == ["positive"]


def test_an_unreadable_line_is_reported_with_its_byte_offset(local_stack: LocalStack) -> None:
    data = jsonl(mixed(2)) + b'{"custom_id": "c-3", "input": {"text": "caf\xe9"}}\n'  # Latin-1, not UTF-8
    with local_stack.client(local_stack.admin_key) as client:
        final = watch(client, create(client, data)["id"])[-1]

    assert final["status"] == "failed"
    assert final["errors"] == {
        "object": "list",
        "data": [
            {
                "line": 3,
                "code": "invalid_json",
                "message": "The line is not valid UTF-8: byte 0xE9 at byte offset 43 of the line.",
                "param": None,
            }
        ],
    }


def test_batches_use_idempotency_keys_and_tenant_isolation(local_stack: LocalStack) -> None:
    other = mint_key(local_stack, "batch-outsider", "predict")
    with local_stack.client(local_stack.admin_key) as client, local_stack.client(other) as outsider:
        upload_id = upload(client, jsonl(mixed(3)))
        body = {"model": "sentiment", "input_upload_id": upload_id}
        first = client.post("/v1/batches", json=body, headers={"Idempotency-Key": "nightly-2026-11-22"})
        retry = client.post("/v1/batches", json=body, headers={"Idempotency-Key": "nightly-2026-11-22"})
        changed = client.post(
            "/v1/batches", json={**body, "model": "echo"}, headers={"Idempotency-Key": "nightly-2026-11-22"}
        )
        batch_id = first.json()["id"]
        foreign_get = outsider.get(f"/v1/batches/{batch_id}")
        foreign_cancel = outsider.post(f"/v1/batches/{batch_id}/cancel")
        foreign_list = outsider.get("/v1/batches").json()["data"]
        foreign_upload = outsider.post("/v1/batches", json=body)
        watch(client, batch_id)

    assert (first.status_code, retry.status_code, changed.status_code) == (201, 201, 409)
    assert retry.json()["id"] == batch_id
    assert (foreign_get.status_code, foreign_cancel.status_code) == (404, 404)
    assert foreign_get.headers["content-type"] == "application/problem+json"
    assert foreign_list == []
    assert foreign_upload.status_code == 422  # another tenant's upload is no upload at all
