"""The ``infergate`` command line, driven through ``main`` with the client over an ``httpx.MockTransport``."""

import io
from typing import Any

import pytest
from infergate.cli.inputs import InputError, build_input, parse_pair
from infergate.cli.progress import BatchProgress


@pytest.mark.parametrize(
    ("pair", "expected"),
    [
        ("x=3", ("x", 3)),
        ("ratio=0.5", ("ratio", 0.5)),
        ("on=true", ("on", True)),
        ("none=null", ("none", None)),
        ('tags=["a","b"]', ("tags", ["a", "b"])),
        ('obj={"k": 1}', ("obj", {"k": 1})),
        ("text=hello", ("text", "hello")),
        ("text=hello world", ("text", "hello world")),
        ("url=http://x/?a=b", ("url", "http://x/?a=b")),
        ("empty=", ("empty", "")),
        ("zip==02134", ("zip", "02134")),
        ("answer==true", ("answer", "true")),
        ("n==3", ("n", "3")),
        ("eq===x", ("eq", "=x")),
    ],
)
def test_a_pair_is_json_when_it_parses_and_a_string_otherwise_or_when_forced(
    pair: str, expected: tuple[str, Any]
) -> None:
    assert parse_pair(pair) == expected


@pytest.mark.parametrize("pair", ["novalue", "=3", ""])
def test_a_pair_without_a_key_or_an_equals_sign_is_refused(pair: str) -> None:
    with pytest.raises(InputError):
        parse_pair(pair)


def test_pairs_are_set_on_the_input_object_and_win_over_its_fields() -> None:
    stdin = io.StringIO('{"text": "from stdin", "n": 1}')
    assert build_input(["n=2", "extra==x"], "-", stdin) == {"text": "from stdin", "n": 2, "extra": "x"}
    with pytest.raises(InputError, match="JSON object"):
        build_input([], "[1, 2]")
    with pytest.raises(InputError, match="no input"):
        build_input([], None)


def _batch(status: str, total: int, completed: int, failed: int) -> dict[str, Any]:
    counts = {"total": total, "completed": completed, "failed": failed}
    return {"id": "bat_1", "status": status, "request_counts": counts}


def test_progress_off_a_terminal_is_a_plain_line_per_status_and_at_most_one_per_interval() -> None:
    stream, now = io.StringIO(), [0.0]
    progress = BatchProgress(stream, tty=False, interval=10.0, clock=lambda: now[0])
    for at, batch in [
        (0.0, _batch("validating", 0, 0, 0)),
        (1.0, _batch("in_progress", 10, 0, 0)),
        (2.0, _batch("in_progress", 10, 3, 0)),  # counts moved, but within the interval: not shown
        (12.0, _batch("in_progress", 10, 6, 1)),
        (13.0, _batch("completed", 10, 8, 2)),
    ]:
        now[0] = at
        progress(batch)
    progress.finish()
    assert stream.getvalue().splitlines() == [
        "batch bat_1: validating, 0/0 lines done",
        "batch bat_1: in_progress, 0/10 lines done",
        "batch bat_1: in_progress, 7/10 lines done (1 failed)",
        "batch bat_1: completed, 10/10 lines done (2 failed)",
    ]
    assert "\r" not in stream.getvalue()


def test_progress_on_a_terminal_redraws_one_bar_and_ends_its_line() -> None:
    stream = io.StringIO()
    progress = BatchProgress(stream, tty=True)
    progress(_batch("in_progress", 4, 1, 0))
    progress(_batch("completed", 4, 3, 1))
    progress.finish()
    frames = stream.getvalue().split("\r")[1:]
    assert frames[0].startswith("[" + "#" * 7 + "-" * 23 + "] 1/4 lines in_progress")
    assert frames[1].startswith("[" + "#" * 30 + "] 4/4 lines completed (1 failed)")
    assert stream.getvalue().endswith("\n")
