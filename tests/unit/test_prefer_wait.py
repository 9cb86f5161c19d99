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
        ("wait=61", 20.0),  # a longer wish than the cap is capped, not ignored
        ("wait=999", 20.0),
        ("wait=9999999999", 20.0),
        ("wait=99999999999", None),  # over ten digits: not a number of seconds this parser takes
        ("wait=abc", None),
        ("waiting=5", None),
        ("return=minimal", None),
        # RFC 7240: a value is a token or a quoted string, with optional whitespace around "=".
        ('wait="5"', 5.0),
        ('WAIT="60"', 20.0),
        ("wait = 5", 5.0),
        ('respond-async, wait="3"; x="y"', 3.0),
        ('handling=lenient, wait="4", return=minimal', 4.0),
        ('wait="5', None),  # an unterminated quote is no preference
        ('wait="0"', None),
        ('wait=""', None),
        # Only the first wait counts; a wait that is a parameter or inside a quoted string is none.
        ("wait=5, wait=7", 5.0),
        ("wait=abc, wait=5", None),
        ("return=minimal; wait=5", None),
        ('x="a, wait=5"', None),
    ],
)
def test_requested_wait(header: str | None, expected: float | None) -> None:
    assert requested_wait(header, cap=20.0) == expected
