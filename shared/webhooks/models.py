"""Webhook deliveries and their states."""

from dataclasses import dataclass
from enum import StrEnum

from shared.kernel.errors import ConflictError, NotFoundError
from shared.kernel.outbox import EventType


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # queued or waiting for its next attempt
    DELIVERED = "delivered"  # a 2xx answer within the timeout
    GONE = "gone"  # the receiver answered 410: never retried
    FAILED = "failed"  # every scheduled attempt failed: parked in the DLQ until redriven


@dataclass(frozen=True)
class Delivery:
    id: str
    tenant: str
    prediction_id: str
    event: EventType
    url: str
    status: DeliveryStatus
    created_at: str
    expires_at: int
    attempts: int = 0  # every attempt ever made
    round_attempts: int = 0  # attempts since creation or the last redrive: drives the schedule
    last_attempt_at: str | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    next_attempt_at: str | None = None


@dataclass(frozen=True)
class AttemptOutcome:
    """What one attempt changed; written only if no other attempt was recorded meanwhile."""

    status: DeliveryStatus
    at: str
    status_code: int | None
    error: str | None
    next_attempt_at: str | None


class DeliveryNotFoundError(NotFoundError):
    def __init__(self, delivery_id: str) -> None:
        super().__init__("There is no such webhook delivery.")


class DeliveryError(Exception):
    """The webhook was not delivered. ``reason`` is safe to log and to show the webhook's owner."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AttemptConflictError(ConflictError):
    """Another worker recorded an attempt of this delivery first (a duplicate message)."""

    def __init__(self) -> None:
        super().__init__("Another attempt of this delivery was recorded first.")


@dataclass(frozen=True)
class WebhookSecrets:
    """The tenant's signing secret, and the previous one while its grace period lasts."""

    current: str
    previous: str | None = None
    previous_valid_until: int | None = None  # epoch seconds

    def signing_keys(self, now: float) -> list[str]:
        keys = [self.current]
        if self.previous and self.previous_valid_until and now < self.previous_valid_until:
            keys.append(self.previous)
        return keys
