"""The DynamoDB prediction adapter on moto: conditional transitions, large outputs, paging, TTL."""

import os
from dataclasses import replace
from typing import Any

import pytest

from shared.adapters.clients import dynamodb_client
from shared.kernel.clock import to_rfc3339, utc_now
from shared.kernel.errors import TransientError
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
from tools.provision import Stack


def _prediction(number: int = 0, tenant: str = "acme") -> Prediction:
    return Prediction(
        id=f"pred_01JD5YB4W3ZV0B4S8FZ7Q6N9{number:02d}",
        tenant=tenant,
        model="echo",
        version=1,
        status=PredictionStatus.STARTING,
        input={"n": number, "text": "héllo"},
        created_at=to_rfc3339(utc_now()),
        expires_at=2_000_000_000,
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
    prediction_id = _prediction().id
    store.transition("acme", prediction_id, Transition(PredictionStatus.PROCESSING, _now()))
    done = store.transition(
        "acme", prediction_id, Transition(PredictionStatus.SUCCEEDED, _now(), output={"ok": True}, predict_time=0.5)
    )

    with pytest.raises(TransitionRejectedError) as lost:
        store.transition("acme", prediction_id, Transition(PredictionStatus.CANCELED, _now()))

    assert lost.value.current == done
    assert done.output == {"ok": True}
    assert done.predict_time == 0.5


def test_failed_predictions_keep_their_error(stack: Stack) -> None:
    store = prediction_store()
    store.create(_prediction())

    failed = store.transition(
        "acme", _prediction().id, Transition(PredictionStatus.FAILED, _now(), error=PredictionError("c", "m"))
    )

    assert failed.error == PredictionError("c", "m")
    assert store.get("acme", _prediction().id).error == PredictionError("c", "m")


def test_a_large_output_lives_in_a_sibling_item_written_atomically(stack: Stack) -> None:
    store = prediction_store()
    store.create(_prediction())
    prediction_id = _prediction().id
    store.transition("acme", prediction_id, Transition(PredictionStatus.PROCESSING, _now()))
    big = {"blob": "y" * 200_000}

    done = store.transition("acme", prediction_id, Transition(PredictionStatus.SUCCEEDED, _now(), output=big))

    assert done.output == big
    assert store.list("acme", 10, None)[0][0].output == big
    main, sibling = _raw(prediction_id), _raw(prediction_id, "PREDOUT#")
    assert main is not None
    assert sibling is not None
    assert "output" not in main
    assert sibling["expires_at"] == {"N": "2000000000"}


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
