"""Parsing one line of a batch input file: every refusal carries its line number and a stable code."""

import itertools
import json

import pytest

from shared.batches.chunks import BYTE_ORDER_MARK, ChunkPlanner, read_lines
from shared.batches.lines import MAX_LINE_BYTES, BatchLine, LineError, LineErrorCode, parse_line, split_lines


def test_a_valid_line_is_parsed() -> None:
    assert parse_line(3, b'{"custom_id": "r-1", "input": {"text": "hi"}}') == BatchLine(3, "r-1", {"text": "hi"})


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"not json", LineErrorCode.INVALID_JSON),
        (b'{"custom_id": "a", "input": {}', LineErrorCode.INVALID_JSON),
        (b'{"custom_id": "a", "input": {"x": NaN}}', LineErrorCode.INVALID_JSON),
        (b'{"custom_id": "a", "input": {"x": Infinity}}', LineErrorCode.INVALID_JSON),
        (b'{"custom_id": "a", "input": {"x": 1e999}}', LineErrorCode.INVALID_JSON),
        (b'{"custom_id": "a", "input": {"x": "\\ud800"}}', LineErrorCode.INVALID_JSON),
        (b'{"custom_id": "a", "input": {"x": "\xff"}}', LineErrorCode.INVALID_JSON),
        (b'{"custom_id": "a", "input": {"x": ' + b"9" * 5000 + b"}}", LineErrorCode.INVALID_JSON),
        (b'{"custom_id": "a", "input": {"x": ' + b"[" * 100 + b"]" * 100 + b"}}", LineErrorCode.INVALID_JSON),
        (b'{"custom_id": "a", "input": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", LineErrorCode.INVALID_JSON),
        (b'["custom_id", "a"]', LineErrorCode.NOT_AN_OBJECT),
        (b'"a string"', LineErrorCode.NOT_AN_OBJECT),
        (b'{"input": {}}', LineErrorCode.INVALID_CUSTOM_ID),
        (b'{"custom_id": "", "input": {}}', LineErrorCode.INVALID_CUSTOM_ID),
        (b'{"custom_id": 7, "input": {}}', LineErrorCode.INVALID_CUSTOM_ID),
        (json.dumps({"custom_id": "x" * 65, "input": {}}).encode(), LineErrorCode.INVALID_CUSTOM_ID),
        (b'{"custom_id": "a"}', LineErrorCode.INVALID_LINE),
        (b'{"custom_id": "a", "input": [1]}', LineErrorCode.INVALID_LINE),
        (b'{"custom_id": "a", "input": {}, "model": "echo"}', LineErrorCode.INVALID_LINE),
        (b'{"custom_id": "a", "input": {"t": "' + b"x" * MAX_LINE_BYTES + b'"}}', LineErrorCode.LINE_TOO_LARGE),
    ],
)
def test_a_bad_line_is_an_error_with_its_number_and_code(raw: bytes, code: LineErrorCode) -> None:
    error = parse_line(17, raw)

    assert isinstance(error, LineError)
    assert (error.line, error.code) == (17, code)
    assert error.message
    assert "x" * 20 not in error.message  # never echoes the line back


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"custom_id": "a", "input": {"x": "\xff"}}', "not valid UTF-8: byte 0xFF at byte offset 35 of the line"),
        (b'{"custom_id": "\xc3\xa9", "input": {}, }', "not valid JSON: Expecting property name enclosed in double"),
        (b'{"custom_id": "\xc3\xa9", "input": {}, }', "at byte offset 33 of the line"),  # bytes, not characters
        (b"\xff\xfe{\x00", "starts with a UTF-16 byte-order mark: the file must be UTF-8"),
        (BYTE_ORDER_MARK + b'{"custom_id": "a", "input": {}}', "starts with a byte-order mark (U+FEFF)"),
        (b'{"custom_id": "a", "input": {"x": NaN}}', "not valid JSON: NaN is not allowed"),
        (b'{"custom_id": "a", "input": {"x": ' + b"9" * 5000 + b"}}", "not valid JSON: a number is too long"),
        (b'{"custom_id": "a", "input": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deeply"),
    ],
)
def test_an_unreadable_line_says_exactly_what_is_wrong_and_where(raw: bytes, message: str) -> None:
    error = parse_line(1, raw)

    assert isinstance(error, LineError)
    assert error.code is LineErrorCode.INVALID_JSON
    assert message in error.message


@pytest.mark.parametrize("block_size", [1, 2, 3, 4, 64])
def test_a_byte_order_mark_at_the_start_of_the_file_is_not_part_of_the_first_line(block_size: int) -> None:
    data = BYTE_ORDER_MARK + b'{"a": 1}\n{"b": 2}\n'

    lines = list(read_lines(_blocks(data, block_size)))

    assert [(line.number, line.data, line.start) for line in lines] == [(1, b'{"a": 1}', 3), (2, b'{"b": 2}', 12)]
    assert [data[line.start : line.end] for line in lines] == [b'{"a": 1}\n', b'{"b": 2}\n']


def test_a_byte_order_mark_is_only_skipped_at_the_start_of_the_file() -> None:
    later = list(read_lines([BYTE_ORDER_MARK + b'{"a": 1}\n'], start=100, first_number=9))
    short = list(read_lines([b"\xef\xbb"]))

    assert [(line.number, line.data, line.start) for line in later] == [(9, BYTE_ORDER_MARK + b'{"a": 1}', 100)]
    assert [(line.data, line.start) for line in short] == [(b"\xef\xbb", 0)]


@pytest.mark.parametrize(
    ("raw", "pointer"),
    [
        (b'{"custom_id": "a", "custom_id": "b", "input": {}}', "/custom_id"),
        (b'{"custom_id": "a", "input": {"text": "good", "text": "bad"}}', "/input/text"),
        (b'{"custom_id": "a", "input": {"rows": [{}, {"x~/y": 1, "x~/y": 2}]}}', "/input/rows/1/x~0~1y"),
    ],
)
def test_a_line_with_a_duplicate_key_is_refused_naming_the_key_and_where(raw: bytes, pointer: str) -> None:
    """A repeated key would otherwise keep its last value, unlike other JSONL readers (some keep the first)."""
    error = parse_line(5, raw)

    assert isinstance(error, LineError)
    assert (error.line, error.code) == (5, LineErrorCode.DUPLICATE_KEY)
    assert error.message.endswith(f"appears more than once in one object (at {pointer}).")


def test_lines_are_numbered_as_in_the_file_and_blank_ones_skipped() -> None:
    data = b'{"a": 1}\r\n\n   \n{"b": 2}\n'

    assert list(split_lines(data)) == [(1, b'{"a": 1}'), (4, b'{"b": 2}')]
    assert list(split_lines(data, first_number=101)) == [(101, b'{"a": 1}'), (104, b'{"b": 2}')]


def _blocks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("block_size", [1, 2, 7, 64, 1 << 20])
def test_streamed_lines_carry_numbers_and_exact_byte_ranges(block_size: int) -> None:
    data = b'{"a": 1}\r\n\n{"b": 2}\n{"c": 3}'

    lines = list(read_lines(_blocks(data, block_size)))

    assert [(line.number, line.data) for line in lines] == [
        (1, b'{"a": 1}'),
        (2, b""),
        (3, b'{"b": 2}'),
        (4, b'{"c": 3}'),
    ]
    assert [data[line.start : line.end] for line in lines] == [b'{"a": 1}\r\n', b"\n", b'{"b": 2}\n', b'{"c": 3}']


def test_a_line_over_the_limit_is_flagged_without_being_kept() -> None:
    data = b"x" * (MAX_LINE_BYTES + 10) + b'\n{"ok": 1}\n'

    first, second = read_lines(_blocks(data, 4096))

    assert (first.number, first.too_long, first.data, first.end) == (1, True, b"", MAX_LINE_BYTES + 11)
    assert (second.number, second.data, second.start) == (2, b'{"ok": 1}', MAX_LINE_BYTES + 11)


def test_chunks_cover_the_file_in_order_within_their_limits() -> None:
    lines = [json.dumps({"custom_id": str(n), "input": {"n": n}}).encode() for n in range(1, 26)]
    data = b"\n".join(lines[:10]) + b"\n\n" + b"\n".join(lines[10:]) + b"\n"
    planner = ChunkPlanner(max_lines=4, max_bytes=200)

    chunks = [c for line in read_lines(_blocks(data, 50)) if (c := planner.add(line))]
    last = planner.finish()
    assert last is not None
    chunks.append(last)
    assert planner.finish() is None

    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert chunks[0].start == 0
    assert chunks[-1].end == len(data)
    assert all(a.end == b.start for a, b in itertools.pairwise(chunks))
    assert sum(c.lines for c in chunks) == 25
    assert all(c.lines <= 4 and c.end - c.start <= 200 for c in chunks)
    refetched = [n for c in chunks for n, _ in split_lines(data[c.start : c.end], c.first_line)]
    assert refetched == [n for n, _ in split_lines(data)]  # a worker's ranged GET sees the same lines
    assert chunks[0].byte_range == f"bytes=0-{chunks[0].end - 1}"
