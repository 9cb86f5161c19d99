"""RateLimiter's leases on a store that grants whatever fits: how long a lease lives and what the next asks for."""

from collections.abc import Callable

import pytest

from shared.ratelimit.models import Admission, RateLimit
from shared.ratelimit.service import RateLimiter, lease_validity_ms

DEFAULTS = RateLimit(per_second=50, burst=100)  # the template's: leases of up to 10 tokens, valid 2 s


class GrantingStore:
    """Grants every request in full and records how many tokens each write asked for."""

    def __init__(self) -> None:
        self.asked: list[int] = []

    def admit(self, key_id: str, clock: Callable[[], int], limit: RateLimit, wanted: int = 1) -> Admission:
        self.asked.append(wanted)
        return Admission(granted=wanted)


class Clock:
    def __init__(self) -> None:
        self.ms = 1_800_000_000_000

    def __call__(self) -> int:
        return self.ms


def _asked(step_ms: int, requests: int, limit: RateLimit = DEFAULTS) -> list[int]:
    store, clock = GrantingStore(), Clock()
    limiter = RateLimiter(store, limit, clock)  # type-checked: the fake implements the port
    for _ in range(requests):
        limiter.check("key_a")
        clock.ms += step_ms
    return store.asked


@pytest.mark.parametrize(
    ("limit", "validity_ms"),
    [
        (DEFAULTS, 2000),  # the time the limit takes to refill its burst
        (RateLimit(per_second=100, burst=20), 1000),  # 200 ms: never under 1 s (the validity before issue 20)
        (RateLimit(per_second=1, burst=100), 10_000),  # 100 s: never over 10 s
    ],
)
def test_a_lease_lives_as_long_as_the_limit_takes_to_refill_its_burst_within_bounds(
    limit: RateLimit, validity_ms: int
) -> None:
    assert lease_validity_ms(limit) == validity_ms
    assert RateLimiter(GrantingStore(), limit).lease_ms == validity_ms


def test_a_quiet_key_keeps_a_lease_of_what_one_validity_needs() -> None:
    # 0.9 requests/s: a lease of one, used up in time, doubles; each lease of two then lapses just before the
    # next request, which asks for the two it used.
    assert _asked(step_ms=1111, requests=9) == [1, 2, 2, 2, 2]


def test_a_lease_that_lapsed_half_used_is_followed_by_a_smaller_one() -> None:
    store, clock = GrantingStore(), Clock()
    limiter = RateLimiter(store, DEFAULTS, clock)
    for _ in range(1 + 2 + 4 + 8 + 1):  # leases of 1, 2, 4, 8, then one of 10
        limiter.check("key_a")
    clock.ms += 2500  # the lease of 10 lapsed with one token used, less than one validity ago

    limiter.check("key_a")

    assert store.asked == [1, 2, 4, 8, 10, 1]


def test_a_key_quiet_for_longer_than_two_validities_starts_again_at_one_token() -> None:
    assert _asked(step_ms=4001, requests=4) == [1, 1, 1, 1]


def test_a_busy_key_doubles_its_lease_up_to_a_tenth_of_the_burst() -> None:
    assert _asked(step_ms=10, requests=40) == [1, 2, 4, 8, 10, 10, 10]
