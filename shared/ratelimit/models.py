"""Rate limit policy and the error a limited caller gets."""

import math
from dataclasses import dataclass

from shared.kernel.errors import InfergateError


@dataclass(frozen=True)
class RateLimit:
    """``per_second`` sustained requests, and up to ``burst`` at once after a quiet spell."""

    per_second: float
    burst: int

    @property
    def interval_ms(self) -> float:
        """The emission interval T of the generic cell rate algorithm."""
        return 1000.0 / self.per_second

    @property
    def tolerance_ms(self) -> float:
        """How far ahead of now the theoretical arrival time may run: ``burst - 1`` intervals."""
        return (self.burst - 1) * self.interval_ms


@dataclass(frozen=True)
class Admission:
    """The store's answer: ``granted`` requests admitted (at most the number asked for), or none and
    ``retry_after_ms`` until one would be."""

    granted: int
    retry_after_ms: float = 0.0


class RateLimitedError(InfergateError):
    """Too many requests for this API key, or for its tenant (429 with ``Retry-After``)."""

    def __init__(self, retry_after_seconds: float, subject: str = "API key") -> None:
        self.retry_after = max(1, math.ceil(retry_after_seconds))
        super().__init__(f"This {subject} is over its rate limit; retry after {self.retry_after} s.")
