"""What the rate limiter needs from storage."""

from collections.abc import Callable
from typing import Protocol

from shared.ratelimit.models import Admission, RateLimit


class RateLimitStore(Protocol):
    def admit(self, key_id: str, clock: Callable[[], int], limit: RateLimit, wanted: int = 1) -> Admission:
        """Count up to ``wanted`` requests (at most ``limit.burst``) as arriving now: as many as the limit
        allows, at least one, or none and how long until one would be admitted.

        ``clock`` gives the current time in epoch milliseconds; it is read at each attempt."""
        ...
