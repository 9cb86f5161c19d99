"""When to try a failed delivery again: exponential backoff with jitter, for at least 24 hours."""

import random
from collections.abc import Callable
from dataclasses import dataclass

# Seconds to wait after the 1st, 2nd, ... failed attempt: 11 attempts over ~25.7 hours.
DEFAULT_DELAYS: tuple[float, ...] = (5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 36000)
# SQS refuses a visibility that ends more than 12 h after the message was received; keep a margin
# for the time the attempt itself took.
MAX_DELAY_SECONDS = 12 * 3600 - 300


@dataclass(frozen=True)
class RetrySchedule:
    delays: tuple[float, ...] = DEFAULT_DELAYS
    scale: float = 1.0  # tests shrink the schedule, never deployments
    jitter: float = 0.2  # up to +20 %: only ever longer, so the schedule never ends before 24 h

    @property
    def attempts(self) -> int:
        return len(self.delays) + 1

    def delay_after(
        self, failed_attempts: int, retry_after: float | None = None, rand: Callable[[], float] = random.random
    ) -> float | None:
        """Seconds until the next attempt after ``failed_attempts`` failures, or None when they are used up.

        A receiver's ``Retry-After`` is honoured when it asks for more time, up to the SQS maximum.
        """
        if failed_attempts < 1 or failed_attempts > len(self.delays):
            return None
        base = self.delays[failed_attempts - 1] * self.scale
        delay = base * (1 + self.jitter * rand())
        if retry_after is not None:
            delay = max(delay, retry_after * self.scale)
        return min(delay, MAX_DELAY_SECONDS)

    def total_seconds(self) -> float:
        return sum(self.delays) * self.scale
