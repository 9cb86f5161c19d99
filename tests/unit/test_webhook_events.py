"""Which transitions create webhook deliveries, and that they are handed off after the write."""

import json

import pytest
from pydantic import ValidationError

from shared.kernel.outbox import EventType
from shared.predictions.events import plan_deliveries
from shared.predictions.models import Prediction, PredictionStatus, WebhookEvent
from shared.predictions.transitions import Transitions
from shared.representations import PredictionEventOut, PredictionOut
from shared.webhooks.models import Delivery, DeliveryStatus
from shared.webhooks.service import WebhookDeliverer
from tests.support.fakes import InMemoryPredictionStore, InMemoryPublisher
from tests.support.resources import EXPIRES_AT, a_prediction

START, COMPLETED = WebhookEvent.START, WebhookEvent.COMPLETED
NOW = "2025-01-01T12:00:00.000Z"


def _prediction(
    webhook: str | None = "https://example.com/hook", events: tuple[WebhookEvent, ...] = (COMPLETED,)
) -> Prediction:
    return a_prediction(webhook=webhook, webhook_events_filter=events)


@pytest.mark.parametrize(
    ("events", "status", "expected"),
    [
        ((COMPLETED,), PredictionStatus.PROCESSING, []),
        ((COMPLETED,), PredictionStatus.SUCCEEDED, [EventType.PREDICTION_COMPLETED]),
        ((COMPLETED,), PredictionStatus.FAILED, [EventType.PREDICTION_COMPLETED]),
        ((COMPLETED,), PredictionStatus.CANCELED, [EventType.PREDICTION_COMPLETED]),
        ((START,), PredictionStatus.PROCESSING, [EventType.PREDICTION_STARTED]),
        ((START,), PredictionStatus.SUCCEEDED, []),
        ((START, COMPLETED), PredictionStatus.PROCESSING, [EventType.PREDICTION_STARTED]),
        ((START, COMPLETED), PredictionStatus.CANCELED, [EventType.PREDICTION_COMPLETED]),
    ],
)
def test_events_follow_the_filter(
    events: tuple[WebhookEvent, ...], status: PredictionStatus, expected: list[EventType]
) -> None:
    planned = plan_deliveries(_prediction(events=events), status)

    assert [d.event for d in planned] == expected
    assert all(d.url == "https://example.com/hook" and d.id.startswith("dlv_") for d in planned)
    assert all(d.expires_at == EXPIRES_AT for d in planned)


def test_no_webhook_no_deliveries() -> None:
    assert plan_deliveries(_prediction(webhook=None, events=(START, COMPLETED)), PredictionStatus.SUCCEEDED) == ()


def test_deliveries_are_written_with_the_transition_and_then_published() -> None:
    store, publisher = InMemoryPredictionStore(), InMemoryPublisher()
    store.create(_prediction(events=(START, COMPLETED)))

    moved = Transitions(store, publisher).move(_prediction(), PredictionStatus.CANCELED)

    assert moved.status is PredictionStatus.CANCELED
    [(_, written)] = store.deliveries
    assert publisher.published == [("acme", moved.id, written)]


def test_a_failed_hand_off_keeps_the_committed_transition_and_delivery() -> None:
    store, publisher = InMemoryPredictionStore(), InMemoryPublisher(fail=True)
    store.create(_prediction())

    moved = Transitions(store, publisher).move(_prediction(), PredictionStatus.CANCELED)

    assert moved.status is PredictionStatus.CANCELED
    assert len(store.deliveries) == 1
    assert publisher.published == []


@pytest.mark.parametrize("event", [EventType.PREDICTION_STARTED, EventType.PREDICTION_COMPLETED])
def test_a_prediction_events_body_is_the_documented_envelope(event: EventType) -> None:
    """The body a receiver gets is the model the OpenAPI document's ``webhooks`` describe."""
    prediction = _prediction()
    delivery = Delivery(
        "dlv_1", "acme", prediction.id, event, "https://example.com/hook", DeliveryStatus.PENDING, NOW, EXPIRES_AT
    )
    data = PredictionOut.of(prediction, "https://api.example.com").model_dump(mode="json")

    body = WebhookDeliverer.body(delivery, data)

    envelope = PredictionEventOut.model_validate_json(body)
    assert (envelope.type, envelope.timestamp, envelope.data.id) == (event, NOW, prediction.id)
    assert envelope.model_dump(mode="json") == json.loads(body)


def test_an_unknown_event_type_is_not_a_prediction_event() -> None:
    with pytest.raises(ValidationError):
        PredictionEventOut.model_validate({"type": EventType.BATCH_COMPLETED, "timestamp": NOW, "data": {}})
