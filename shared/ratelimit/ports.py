"""What the rate limiter needs from storage."""

from collections.abc import Callable
from typing import Protocol

from shared.ratelimit.models import RateLimit


class RateLimitStore(Protocol):
    def admit(self, key_id: str, clock: Callable[[], int], limit: RateLimit) -> float | None:
        """Count one request; None when admitted, else the milliseconds until one would be.

        ``clock`` gives the current time in epoch milliseconds; it is read at each attempt."""
        ...
