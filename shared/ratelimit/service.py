"""Admit or refuse one request: against its API key's limit, then its tenant's.

A container that sees a key busy takes its tokens a few at a time: one conditional write admits a lease
of several requests (counted against the key as arriving now), and the next requests are admitted from
that lease without a write, for at most ``LEASE_MS``; what is unused then is dropped. A lease starts at one
token (a quiet key costs one write per request) and doubles each time one is used up in time, up to
``MAX_LEASE`` and a tenth of the burst (a burst under 20 is counted exactly). The price: over any span
of time a key can be admitted at most one lease per warm container more than its limit allows; and a
lease's tokens count as arriving when it is taken, so when many containers hold leases of a key that is
near its burst, a request bunched behind them can be refused while the key's real rate is under its limit
(sixteen containers with two-token leases take 32 tokens of a burst of 20 if they all write at once).
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

from shared.kernel.observability import logger
from shared.ratelimit.models import RateLimit, RateLimitedError
from shared.ratelimit.ports import RateLimitStore

MAX_LEASE = 10  # tokens one write may take
LEASE_MS = 1000  # how long leased tokens stay usable
BURST_SHARE = 10  # ... and never more than a tenth of the key's burst
_REMEMBERED_KEYS = 10_000  # leases kept per container
TENANT_PREFIX = "TENANT#"  # a tenant's item is RATE#TENANT#<tenant>; key ids (key_<ULID>) never start so


@dataclass
class _Lease:
    size: int
    left: int
    until_ms: int


class RateLimiter:
    def __init__(
        self,
        store: RateLimitStore,
        limit: RateLimit | None,
        now_ms: Callable[[], int] = lambda: int(time.time() * 1000),
        subject: str = "API key",
    ) -> None:
        self._store = store
        self._limit = limit
        self._subject = subject  # what the limit is on, as the refusal names it
        self._now_ms = now_ms
        self._max_lease = max(1, min(MAX_LEASE, limit.burst // BURST_SHARE)) if limit is not None else 1
        self._leases: dict[str, _Lease] = {}  # insertion-ordered: the oldest is dropped first

    def check(self, key_id: str) -> None:
        """Raise ``RateLimitedError`` when ``key_id`` (an API key's id, or ``TENANT#<tenant>``) is over its
        limit (no limit configured: always admit)."""
        if self._limit is None:
            return
        now = self._now_ms()
        wanted = 1
        lease = self._leases.pop(key_id, None)
        if lease is not None and now < lease.until_ms:
            if lease.left > 0:
                lease.left -= 1
                self._leases[key_id] = lease  # to the end: the most recently used
                return
            wanted = min(self._max_lease, lease.size * 2)  # used up in time: the key is busier than the lease
        admission = self._store.admit(key_id, self._now_ms, self._limit, wanted)
        if admission.granted == 0:
            logger.info(
                "request rate limited",
                extra={"limited": self._subject, "retry_after_ms": int(admission.retry_after_ms)},
            )
            raise RateLimitedError(admission.retry_after_ms / 1000, self._subject)
        if self._max_lease > 1:
            self._leases[key_id] = _Lease(admission.granted, admission.granted - 1, now + LEASE_MS)
            if len(self._leases) > _REMEMBERED_KEYS:
                self._leases.pop(next(iter(self._leases)))


class RateLimits:
    """The limits every authenticated request must pass: its API key's, then its tenant's.

    In that order: a request its key refuses spends nothing of the tenant's limit, so one key sending
    far over its own limit cannot use up what the tenant's other keys may send. (A request the tenant's
    limit refuses has spent one of its key's tokens; that only slows the key that sent it.)
    """

    def __init__(self, per_key: RateLimiter, per_tenant: RateLimiter) -> None:
        self._per_key = per_key
        self._per_tenant = per_tenant

    def check(self, key_id: str, tenant: str) -> None:
        """Raise ``RateLimitedError`` when the key, or else its tenant, is over its limit."""
        self._per_key.check(key_id)
        self._per_tenant.check(TENANT_PREFIX + tenant)
