"""`Prefer: wait[=N]` parsing (RFC 7240: unusable preferences are ignored)."""

import pytest

from shared.api.prefer import requested_wait


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("wait", 20.0),
        ("wait=5", 5.0),
        ("WAIT=60", 20.0),
        ("respond-async, wait=3", 3.0),
        ("wait=0", None),
        ("wait=61", None),
        ("wait=abc", None),
        ("waiting=5", None),
        ("return=minimal", None),
    ],
)
def test_requested_wait(header: str | None, expected: float | None) -> None:
    assert requested_wait(header, cap=20.0) == expected
