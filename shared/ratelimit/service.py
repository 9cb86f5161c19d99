"""Admit or refuse one request of an API key."""

import time
from collections.abc import Callable

from shared.observability import logger
from shared.ratelimit.models import RateLimit, RateLimitedError
from shared.ratelimit.ports import RateLimitStore


class RateLimiter:
    def __init__(
        self,
        store: RateLimitStore,
        limit: RateLimit | None,
        now_ms: Callable[[], int] = lambda: int(time.time() * 1000),
    ) -> None:
        self._store = store
        self._limit = limit
        self._now_ms = now_ms

    def check(self, key_id: str) -> None:
        """Raise ``RateLimitedError`` when the key is over its limit (no limit configured: always admit)."""
        if self._limit is None:
            return
        wait_ms = self._store.admit(key_id, self._now_ms, self._limit)
        if wait_ms is not None:
            logger.info("request rate limited", extra={"key_id": key_id, "retry_after_ms": int(wait_ms)})
            raise RateLimitedError(wait_ms / 1000)
