"""The retry schedule: exponential, jittered, at least 24 hours, Retry-After honoured within bounds."""

import itertools

import pytest

from shared.webhooks.schedule import DEFAULT_DELAYS, MAX_DELAY_SECONDS, RetrySchedule


def test_retries_cover_at_least_24_hours_in_eleven_attempts() -> None:
    schedule = RetrySchedule()

    assert schedule.total_seconds() >= 24 * 3600
    assert schedule.attempts == 11
    assert all(later >= earlier for earlier, later in itertools.pairwise(DEFAULT_DELAYS))
    assert max(DEFAULT_DELAYS) <= MAX_DELAY_SECONDS


@pytest.mark.parametrize("failed", range(1, len(DEFAULT_DELAYS) + 1))
def test_jitter_only_lengthens_by_up_to_twenty_percent(failed: int) -> None:
    schedule = RetrySchedule()
    base = DEFAULT_DELAYS[failed - 1]

    low, high = schedule.delay_after(failed, rand=lambda: 0.0), schedule.delay_after(failed, rand=lambda: 1.0)

    assert low == pytest.approx(base)
    assert high == pytest.approx(min(base * 1.2, MAX_DELAY_SECONDS))


def test_even_the_shortest_jittered_schedule_lasts_24_hours() -> None:
    schedule = RetrySchedule()

    shortest = sum(schedule.delay_after(n, rand=lambda: 0.0) or 0 for n in range(1, len(DEFAULT_DELAYS) + 1))

    assert shortest >= 24 * 3600


def test_the_schedule_is_used_up_after_the_last_delay() -> None:
    assert RetrySchedule().delay_after(len(DEFAULT_DELAYS) + 1) is None
    assert RetrySchedule().delay_after(0) is None


def test_retry_after_can_lengthen_but_not_shorten_the_wait() -> None:
    schedule = RetrySchedule(jitter=0)

    assert schedule.delay_after(1, retry_after=120) == 120
    assert schedule.delay_after(4, retry_after=1) == DEFAULT_DELAYS[3]
    assert schedule.delay_after(1, retry_after=10**9) == MAX_DELAY_SECONDS
    assert MAX_DELAY_SECONDS < 12 * 3600  # SQS refuses a visibility past 12 h from receipt


def test_a_scaled_schedule_for_tests() -> None:
    assert RetrySchedule(scale=0.001, jitter=0).delay_after(2) == pytest.approx(0.03)
