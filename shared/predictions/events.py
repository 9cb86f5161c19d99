"""Which webhook events a status change triggers; planned with the transition and written with it."""

from dataclasses import replace

from shared.kernel.ids import IdKind, new_id
from shared.kernel.outbox import EventType, PlannedDelivery
from shared.predictions.models import Prediction, PredictionStatus, WebhookEvent


def plan_deliveries(prediction: Prediction, new_status: PredictionStatus) -> tuple[PlannedDelivery, ...]:
    if prediction.webhook is None:
        return ()
    wanted = set(prediction.webhook_events_filter)
    if new_status is PredictionStatus.PROCESSING and WebhookEvent.START in wanted:
        return (_delivery(prediction, prediction.webhook, EventType.PREDICTION_STARTED),)
    if new_status.is_terminal and WebhookEvent.COMPLETED in wanted:
        return (_delivery(prediction, prediction.webhook, EventType.PREDICTION_COMPLETED),)
    return ()


def _delivery(prediction: Prediction, url: str, event: EventType) -> PlannedDelivery:
    return PlannedDelivery(new_id(IdKind.DELIVERY), event, url, prediction.expires_at)


def as_of_event(prediction: Prediction, event: EventType) -> Prediction:
    """The prediction as it was when ``event`` happened (a started event shows it processing)."""
    if event is not EventType.PREDICTION_STARTED:
        return prediction
    return replace(
        prediction, status=PredictionStatus.PROCESSING, output=None, error=None, completed_at=None, predict_time=None
    )
