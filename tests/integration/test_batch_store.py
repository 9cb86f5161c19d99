"""The DynamoDB batch adapter on moto: typed, conditional status changes answered without reading back."""

import os
from typing import Any

import pytest

from shared.adapters.clients import dynamodb_client
from shared.batches.models import (
    Batch,
    BatchNotFoundError,
    BatchStatus,
    BatchTransition,
    BatchTransitionRejectedError,
    ChunkResult,
    LineProblem,
    RequestCounts,
)
from shared.kernel.clock import to_rfc3339, utc_now
from shared.kernel.outbox import EventType, PlannedDelivery
from shared.wiring import batch_store
from tests.support.resources import a_batch
from tools.provision import Stack

WEBHOOK = "https://example.com/hook"


def _batch() -> Batch:
    return a_batch(created_at="2026-11-21T00:00:00.000Z", webhook=WEBHOOK)


def _now() -> str:
    return to_rfc3339(utc_now())


def _hook(batch: Batch) -> tuple[PlannedDelivery, ...]:
    return (PlannedDelivery("dlv_1", EventType.BATCH_COMPLETED, WEBHOOK, batch.expires_at),)


def _delivery(batch: Batch) -> dict[str, Any] | None:
    key = {"PK": {"S": "TENANT#acme"}, "SK": {"S": f"DLVR#{batch.id}#dlv_1"}}
    item: dict[str, Any] | None = dynamodb_client().get_item(TableName=os.environ["TABLE_NAME"], Key=key).get("Item")
    return item


def test_a_change_writes_its_typed_fields(stack: Stack) -> None:
    store = batch_store()
    store.create(_batch())

    started = store.transition(_batch(), BatchTransition(BatchStatus.IN_PROGRESS, _now(), total=3, chunks_total=1))

    assert (started.status, started.counts, started.chunks_total) == (BatchStatus.IN_PROGRESS, RequestCounts(3), 1)
    assert store.get("acme", _batch().id) == started


def test_a_change_alone_answers_the_batch_as_stored_not_the_callers_copy(stack: Stack) -> None:
    """The caller read it validating; meanwhile it started and a chunk was counted: the cancel applies
    and answers the stored batch (its total, its counts)."""
    store = batch_store()
    store.create(_batch())
    store.transition(_batch(), BatchTransition(BatchStatus.IN_PROGRESS, _now(), total=3, chunks_total=1))
    store.count_chunk("acme", _batch().id, ChunkResult(0, completed=2, failed=1))

    canceling = store.transition(_batch(), BatchTransition(BatchStatus.CANCELING, _now()))

    assert canceling == store.get("acme", _batch().id)
    assert (canceling.status, canceling.counts) == (BatchStatus.CANCELING, RequestCounts(3, 2, 1))


def test_a_final_change_with_its_webhook_answers_the_batch_as_stored_and_writes_the_delivery(stack: Stack) -> None:
    store = batch_store()
    store.create(_batch())
    problems = (LineProblem(0, "empty_file", "The file has no lines."),)
    change = BatchTransition(
        BatchStatus.FAILED, _now(), expected=BatchStatus.VALIDATING, errors=problems, deliveries=_hook(_batch())
    )

    failed = store.transition(_batch(), change)

    assert failed == store.get("acme", _batch().id)
    assert (failed.status, failed.errors, failed.completed_at) == (BatchStatus.FAILED, problems, change.at)
    assert _delivery(failed) is not None


@pytest.mark.parametrize("with_webhook", [False, True])
def test_a_change_that_loses_answers_the_current_batch_and_writes_nothing(stack: Stack, with_webhook: bool) -> None:
    store = batch_store()
    store.create(_batch())
    canceling = store.transition(_batch(), BatchTransition(BatchStatus.CANCELING, _now()))
    deliveries = _hook(_batch()) if with_webhook else ()

    with pytest.raises(BatchTransitionRejectedError) as lost:
        store.transition(
            _batch(),
            BatchTransition(BatchStatus.FAILED, _now(), expected=BatchStatus.VALIDATING, deliveries=deliveries),
        )

    assert lost.value.current == canceling == store.get("acme", _batch().id)
    assert _delivery(canceling) is None


@pytest.mark.parametrize("with_webhook", [False, True])
def test_a_change_of_a_missing_batch_is_not_found(stack: Stack, with_webhook: bool) -> None:
    deliveries = _hook(_batch()) if with_webhook else ()

    with pytest.raises(BatchNotFoundError):
        batch_store().transition(_batch(), BatchTransition(BatchStatus.CANCELING, _now(), deliveries=deliveries))

    assert _delivery(_batch()) is None
