"""What the rate limiter needs from storage."""

from typing import Protocol

from shared.ratelimit.models import RateLimit


class RateLimitStore(Protocol):
    def admit(self, key_id: str, now_ms: int, limit: RateLimit) -> float | None:
        """Count one request; None when admitted, else the milliseconds until one would be."""
        ...
