"""Webhook events and the deliveries planned with a state change (the transactional outbox)."""

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class EventType(StrEnum):
    PREDICTION_STARTED = "prediction.started"
    PREDICTION_COMPLETED = "prediction.completed"
    BATCH_COMPLETED = "batch.completed"


@dataclass(frozen=True)
class PlannedDelivery:
    """A webhook delivery that exists if and only if its transition happened (one DynamoDB transaction)."""

    id: str
    event: EventType
    url: str
    expires_at: int  # the prediction's retention


class DeliveryPublisher(Protocol):
    def publish(self, tenant: str, prediction_id: str, deliveries: tuple[PlannedDelivery, ...]) -> None:
        """Hand committed deliveries to the delivery worker (raises on failure; the relay recovers)."""
        ...
