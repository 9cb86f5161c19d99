"""Admit or refuse one request: against its API key's limit, then its tenant's.

A container that sees a key busy takes its tokens a few at a time: one conditional write admits a lease
of several requests (counted against the key as arriving now), and the next requests are admitted from
that lease without a write, for as long as the lease is valid; what is unused then is dropped. A lease is
valid for the time the limit takes to refill its burst (``burst / per_second``: 2 s at the template's
defaults of 50/s and 100), never less than ``MIN_LEASE_MS`` (1 s) nor more than ``MAX_LEASE_MS`` (10 s).
A lease starts at one token and doubles each time one is used up while valid, up to ``MAX_LEASE`` and a
tenth of the burst (a burst under 20 is counted exactly). A lease that lapsed less than one validity ago
is followed by one of the size the container used of it: a key whose requests keep coming within a
lease's validity (a quiet key of 0.9 requests/s at the defaults: two requests in 2 s) keeps a lease of
that size, one write per lease; a key quiet for longer starts again at one token (one write per request).

The price, in two bounds, each tested (``tests/integration/test_rate_limits.py``):

- over any span of time a key is admitted at most **one lease per warm container** more than its limit
  allows (``burst + per_second x span``): every token is counted by the store when a lease takes it, and
  only the lease a container holds when the span starts was counted before it; this holds whatever the
  validity;
- and at most **``per_second x validity``** more (one burst at the defaults; in general at most the
  larger of one burst and one second at the sustained rate), however many containers: a token is usable
  only for one validity after the store counted it, so whatever is spent in a span was counted in the span or in the
  validity before it. (With the 1 s validity before issue 20 this was one second at the sustained rate,
  half the default burst; at the defaults it is now one burst: never more than twice the burst at once.)

A lease's tokens count as arriving when it is taken, so when many containers hold leases of a key that is
near its burst, a request bunched behind them can be refused while the key's real rate is under its limit
(sixteen containers with two-token leases take 32 tokens of a burst of 20 if they all write at once). A
longer validity makes such leases more common: a container keeps a k-token lease when it sees k requests
of the key within one validity (2 s at the defaults) rather than within 1 s. Sixteen containers sharing a
key at 60 % of its limit are still never refused (``tests/integration/test_rate_limit_contention.py``).
A larger *first* lease is not taken: a key seen once would count tokens it never uses, and a quiet key
gains nothing from it unless its lease outlives the gap to its next request, which is what the validity
decides.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

from shared.kernel.observability import logger
from shared.ratelimit.models import RateLimit, RateLimitedError
from shared.ratelimit.ports import RateLimitStore

MAX_LEASE = 10  # tokens one write may take
BURST_SHARE = 10  # ... and never more than a tenth of the key's burst
MIN_LEASE_MS = 1000  # leased tokens stay usable for the time the limit refills its burst, at least this
MAX_LEASE_MS = 10_000  # ... and at most this
_REMEMBERED_KEYS = 10_000  # leases kept per container
TENANT_PREFIX = "TENANT#"  # a tenant's item is RATE#TENANT#<tenant>; key ids (key_<ULID>) never start so


@dataclass
class _Lease:
    size: int
    left: int
    until_ms: int


def lease_validity_ms(limit: RateLimit) -> int:
    """How long leased tokens stay usable: the time ``limit`` takes to refill its burst, within bounds."""
    return int(min(MAX_LEASE_MS, max(MIN_LEASE_MS, limit.burst * limit.interval_ms)))


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
        self.lease_ms = lease_validity_ms(limit) if limit is not None else MIN_LEASE_MS
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
        elif lease is not None and now < lease.until_ms + self.lease_ms:
            wanted = max(1, lease.size - lease.left)  # lapsed just now: what one validity needed
        admission = self._store.admit(key_id, self._now_ms, self._limit, wanted)
        if admission.granted == 0:
            logger.info(
                "request rate limited",
                extra={"limited": self._subject, "retry_after_ms": int(admission.retry_after_ms)},
            )
            raise RateLimitedError(admission.retry_after_ms / 1000, self._subject)
        if self._max_lease > 1:
            self._leases[key_id] = _Lease(admission.granted, admission.granted - 1, now + self.lease_ms)
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
