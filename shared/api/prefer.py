"""The ``Prefer: wait[=N]`` request header (RFC 7240)."""

import re

_WAIT = re.compile(r"(?:^|[,;\s])wait(?:=(?P<seconds>\d{1,2}))?(?=$|[,;\s])", re.IGNORECASE)
MAX_REQUESTED_WAIT = 60


def requested_wait(prefer: str | None, cap: float) -> float | None:
    """Seconds to hold the response, at most ``cap``; an unusable preference is ignored, as RFC 7240 asks."""
    match = _WAIT.search(prefer or "")
    if match is None:
        return None
    seconds = match.group("seconds")
    if seconds is None:
        return cap
    wanted = int(seconds)
    return min(float(wanted), cap) if 1 <= wanted <= MAX_REQUESTED_WAIT else None
