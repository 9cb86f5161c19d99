"""The batch resource through the real ``openai`` SDK against the local stack: ``batches.list`` pages with
``after`` across more batches than a page, ``batches.retrieve`` and ``batches.cancel`` parse the one shape,
here on native batches."""

import time
from typing import Any

import pytest
from openai import OpenAI
from openai.types import Batch

from tests.e2e.conftest import LocalStack
from tests.support.batch_flow import FINAL, create, jsonl, mixed, unsigned

pytestmark = pytest.mark.e2e


def _sdk(local_stack: LocalStack) -> OpenAI:
    return OpenAI(base_url=local_stack.base_url + "/v1", api_key=local_stack.admin_key, max_retries=0)


def _params(info: object) -> object:
    """The parameters the SDK sends for the next page (its ``PageInfo``), None on the last page."""
    return getattr(info, "params", None)


def _until_final(sdk: OpenAI, batch_id: str, seconds: float = 120) -> Batch:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        batch = sdk.batches.retrieve(batch_id)
        if batch.status in FINAL:
            return batch
        time.sleep(0.2)
    raise AssertionError(f"batch {batch_id} not final after {seconds} s")


def test_the_sdk_lists_every_batch_newest_first_paging_with_after(local_stack: LocalStack) -> None:
    with local_stack.client(local_stack.admin_key) as http:
        created = [create(http, jsonl(mixed(2)))["id"] for _ in range(5)]
    sdk = _sdk(local_stack)

    first = sdk.batches.list(limit=2)
    listed = [batch.id for batch in first]  # the SDK's auto-paging: `after` = the last id of each page
    pages = list(sdk.batches.list(limit=2).iter_pages())

    assert (len(first.data), first.has_more) == (2, True)
    assert listed[:5] == created[::-1]
    assert len(listed) == len(set(listed))  # no batch twice, whatever else the tenant holds
    assert [[batch.id for batch in page.data] for page in pages[:3]] == [
        created[:2:-1],
        created[2:0:-1],
        [created[0], *listed[5:6]],
    ]
    assert [_params(page.next_page_info()) for page in pages[:2]] == [{"after": created[3]}, {"after": created[1]}]
    assert pages[-1].has_more is False


def test_the_sdk_retrieves_a_native_batch_in_openai_s_shape(local_stack: LocalStack) -> None:
    with local_stack.client(local_stack.admin_key) as http:
        created = create(http, jsonl(mixed(16)), metadata={"dataset": "reviews"})
        raw: dict[str, Any] = http.get(f"/v1/batches/{created['id']}").json()
    sdk = _sdk(local_stack)

    done = _until_final(sdk, created["id"])

    assert isinstance(done, Batch)
    assert (done.object, done.status, done.completion_window, done.metadata) == (
        "batch",
        "completed",
        "24h",
        {"dataset": "reviews"},
    )
    assert done.request_counts is not None
    assert (done.request_counts.total, done.request_counts.completed, done.request_counts.failed) == (16, 14, 2)
    assert isinstance(done.created_at, int)
    assert isinstance(done.completed_at, int)
    assert done.expires_at == done.created_at + 24 * 3600
    assert done.created_at <= (done.in_progress_at or 0) <= (done.finalizing_at or 0) <= done.completed_at
    assert (done.failed_at, done.expired_at, done.cancelling_at, done.cancelled_at) == (None, None, None, None)
    assert done.model == "sentiment"
    extra = done.model_extra or {}
    assert (extra["dialect"], extra["version"]) == ("infergate", 1)
    assert extra["output_url"] is not None
    assert extra["retained_until"] > done.completed_at
    assert set(raw) == set(done.model_dump()) - {"usage"}  # every field the API sends, the SDK kept


def test_the_sdk_cancels_a_native_batch_and_its_finished_lines_stay(local_stack: LocalStack) -> None:
    lines = [{"custom_id": f"e-{n}", "input": {"n": n}} for n in range(4000)]
    with local_stack.client(local_stack.admin_key) as http:
        created = create(http, jsonl(lines), model="echo")
    sdk = _sdk(local_stack)

    cancelling = sdk.batches.cancel(created["id"])
    final = _until_final(sdk, created["id"])

    assert isinstance(cancelling, Batch)
    assert cancelling.status in ("cancelling", "finalizing", "completed")  # it may have finished first
    assert cancelling.cancelling_at is not None or cancelling.status != "cancelling"
    assert final.status in ("cancelled", "completed")
    assert final.request_counts is not None
    counts = final.request_counts
    assert counts.completed + counts.failed == counts.total
    if final.status == "cancelled":
        assert final.cancelled_at is not None
        assert final.completed_at is None
        assert (final.cancelling_at or 0) <= final.cancelled_at
    again = sdk.batches.cancel(created["id"])  # a final batch comes back unchanged, its URLs signed anew
    assert unsigned(again.model_dump()) == unsigned(final.model_dump())
