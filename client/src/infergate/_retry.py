"""When to try a request again, and how long to wait first: bounded, exponential, jittered, ``Retry-After`` honoured."""

import random

import httpx

from infergate._request import ApiRequest

RETRIED_STATUSES = frozenset({429, 502, 503, 504})
BASE_DELAY = 0.5
MAX_BACKOFF = 8.0
MAX_RETRY_AFTER = 30.0  # a longer Retry-After is waited this long, then the call is tried again


def retryable_status(status: int, request: ApiRequest) -> bool:
    """429 was refused before any work, so any request may be retried; 502/503/504 only a replayable one."""
    if status == 429:
        return True
    return status in RETRIED_STATUSES and request.replayable


def retryable_error(error: httpx.TransportError, request: ApiRequest) -> bool:
    """A request that never left (connect failure) may always be retried; one that may have arrived, if replayable."""
    if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout):
        return True
    return request.replayable


def delay(attempt: int, retry_after: float | None) -> float:
    """Seconds before retry ``attempt`` (0-based): the server's word (capped), else backoff with jitter."""
    if retry_after is not None:
        return min(retry_after, MAX_RETRY_AFTER)
    backoff = min(MAX_BACKOFF, BASE_DELAY * 2.0**attempt)
    return backoff * random.uniform(0.5, 1.0)  # noqa: S311 - jitter spreads retries; it is no secret
