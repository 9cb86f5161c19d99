"""The DynamoDB prediction adapter on moto: conditional transitions, large outputs, paging, TTL."""

import os
from dataclasses import replace
from typing import Any

import pytest

from shared.adapters.clients import dynamodb_client
from shared.kernel.clock import to_rfc3339, utc_now
from shared.kernel.errors import TransientError
from shared.kernel.outbox import EventType, PlannedDelivery
from shared.predictions.models import (
    Prediction,
    PredictionError,
    PredictionNotFoundError,
    PredictionStatus,
    Transition,
    TransitionRejectedError,
)
from shared.wiring import prediction_store
from tests.support.faults import failing
from tests.support.resources import a_prediction
from tools.provision import Stack


def _prediction(number: int = 0, tenant: str = "acme") -> Prediction:
    return a_prediction(
        id=f"pred_01JD5YB4W3ZV0B4S8FZ7Q6N9{number:02d}",
        tenant=tenant,
        input={"n": number, "text": "héllo"},
        metadata={"k": "v"},
        webhook="https://example.com/hook",
    )


def _raw(prediction_id: str, prefix: str = "PRED#") -> dict[str, Any] | None:
    key = {"PK": {"S": "TENANT#acme"}, "SK": {"S": prefix + prediction_id}}
    item: dict[str, Any] | None = dynamodb_client().get_item(TableName=os.environ["TABLE_NAME"], Key=key).get("Item")
    return item


def _now() -> str:
    return to_rfc3339(utc_now())


def test_round_trip_and_ttl(stack: Stack) -> None:
    store = prediction_store()
    original = _prediction()
    store.create(original)

    assert store.get("acme", original.id) == original
    raw = _raw(_prediction().id)
    assert raw is not None
    assert raw["expires_at"] == {"N": "2000000000"}


def test_create_never_overwrites(stack: Stack) -> None:
    store = prediction_store()
    store.create(_prediction())
    stored = store.get("acme", _prediction().id)

    store.create(_prediction())  # the same write again (an SDK resend): accepted, nothing changes
    with pytest.raises(Exception, match="ConditionalCheckFailed"):
        store.create(replace(_prediction(), input={"another": "input"}))

    assert store.get("acme", _prediction().id) == stored


def test_transitions_are_conditional_and_return_the_current_state_when_they_lose(stack: Stack) -> None:
    store = prediction_store()
    store.create(_prediction())
    processing = store.transition(_prediction(), Transition(PredictionStatus.PROCESSING, _now()))
    done = store.transition(
        processing, Transition(PredictionStatus.SUCCEEDED, _now(), output={"ok": True}, predict_time=0.5)
    )

    with pytest.raises(TransitionRejectedError) as lost:
        store.transition(processing, Transition(PredictionStatus.CANCELED, _now()))

    assert lost.value.current == done
    assert store.get("acme", done.id) == done
    assert done.output == {"ok": True}
    assert done.predict_time == 0.5


def test_failed_predictions_keep_their_error(stack: Stack) -> None:
    store = prediction_store()
    store.create(_prediction())

    failed = store.transition(
        _prediction(), Transition(PredictionStatus.FAILED, _now(), error=PredictionError("c", "m"))
    )

    assert failed.error == PredictionError("c", "m")
    assert store.get("acme", _prediction().id).error == PredictionError("c", "m")


def test_a_large_output_lives_in_a_sibling_item_written_atomically(stack: Stack) -> None:
    store = prediction_store()
    store.create(_prediction())
    prediction_id = _prediction().id
    processing = store.transition(_prediction(), Transition(PredictionStatus.PROCESSING, _now()))
    big = {"blob": "y" * 200_000}

    done = store.transition(processing, Transition(PredictionStatus.SUCCEEDED, _now(), output=big))

    assert done.output == big
    assert store.get("acme", prediction_id) == done
    assert store.list("acme", 10, None)[0][0].output == big
    main, sibling = _raw(prediction_id), _raw(prediction_id, "PREDOUT#")
    assert main is not None
    assert sibling is not None
    assert "output" not in main
    assert sibling["expires_at"] == {"N": "2000000000"}


def _completed_hook(prediction: Prediction) -> tuple[PlannedDelivery, ...]:
    assert prediction.webhook is not None
    return (PlannedDelivery("dlv_1", EventType.PREDICTION_COMPLETED, prediction.webhook, prediction.expires_at),)


def test_a_change_written_with_its_webhook_answers_the_prediction_as_stored(stack: Stack) -> None:
    store = prediction_store()
    store.create(_prediction())
    processing = store.transition(_prediction(), Transition(PredictionStatus.PROCESSING, _now()))
    change = Transition(PredictionStatus.SUCCEEDED, _now(), output={"ok": 1}, deliveries=_completed_hook(processing))

    done = store.transition(processing, change)

    assert done == store.get("acme", processing.id)
    assert _raw(f"{processing.id}#dlv_1", "DLVR#") is not None


def test_a_change_with_its_webhook_that_loses_answers_the_current_state_and_writes_no_delivery(
    stack: Stack,
) -> None:
    store = prediction_store()
    store.create(_prediction())
    canceled = store.transition(_prediction(), Transition(PredictionStatus.CANCELED, _now()))

    with pytest.raises(TransitionRejectedError) as lost:
        store.transition(
            _prediction(), Transition(PredictionStatus.FAILED, _now(), deliveries=_completed_hook(canceled))
        )

    assert lost.value.current == canceled
    assert _raw(f"{canceled.id}#dlv_1", "DLVR#") is None


def test_a_change_with_its_webhook_on_a_prediction_started_meanwhile_keeps_its_start(stack: Stack) -> None:
    """The caller read it ``starting``; a worker started it; the cancel still applies, and its answer is
    the stored prediction (with ``started_at``), not the caller's stale copy with the change applied."""
    store = prediction_store()
    store.create(_prediction())
    seen = store.get("acme", _prediction().id)
    started = store.transition(seen, Transition(PredictionStatus.PROCESSING, _now()))

    canceled = store.transition(seen, Transition(PredictionStatus.CANCELED, _now(), deliveries=_completed_hook(seen)))

    assert canceled == store.get("acme", seen.id)
    assert (canceled.status, canceled.started_at) == (PredictionStatus.CANCELED, started.started_at)


@pytest.mark.parametrize("with_webhook", [False, True])
def test_a_change_of_a_missing_prediction_is_not_found(stack: Stack, with_webhook: bool) -> None:
    missing = _prediction()
    deliveries = _completed_hook(missing) if with_webhook else ()

    with pytest.raises(PredictionNotFoundError):
        prediction_store().transition(missing, Transition(PredictionStatus.CANCELED, _now(), deliveries=deliveries))

    assert _raw(missing.id) is None


def test_list_is_newest_first_per_tenant_with_exact_pages(stack: Stack) -> None:
    store = prediction_store()
    for number in range(5):
        store.create(_prediction(number))
    store.create(_prediction(9, tenant="globex"))

    first, after = store.list("acme", 2, None)
    second, after2 = store.list("acme", 2, after)
    third, end = store.list("acme", 2, after2)

    ids = [p.id for p in first + second + third]
    assert ids == [_prediction(n).id for n in (4, 3, 2, 1, 0)]
    assert end is None


def test_a_full_last_page_has_no_next_cursor(stack: Stack) -> None:
    store = prediction_store()
    for number in range(4):
        store.create(_prediction(number))

    _, after = store.list("acme", 2, None)
    page, end = store.list("acme", 2, after)

    assert len(page) == 2
    assert end is None


def test_missing_prediction(stack: Stack) -> None:
    with pytest.raises(PredictionNotFoundError):
        prediction_store().get("acme", _prediction().id)


@pytest.mark.parametrize(
    "code", ["ThrottlingException", "ProvisionedThroughputExceededException", "InternalServerError"]
)
def test_throttling_and_server_faults_are_transient(stack: Stack, code: str) -> None:
    with failing(dynamodb_client(), "GetItem", code=code), pytest.raises(TransientError):
        prediction_store().get("acme", _prediction().id)


def test_other_client_errors_propagate_unchanged(stack: Stack) -> None:
    with (
        failing(dynamodb_client(), "GetItem", code="AccessDeniedException"),
        pytest.raises(Exception, match="AccessDenied"),
    ):
        prediction_store().get("acme", _prediction().id)
