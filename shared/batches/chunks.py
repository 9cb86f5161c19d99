"""Read a JSONL file as a stream of numbered lines with byte offsets, and cut it into chunks.

Nothing here holds more than one line (at most ``MAX_LINE_BYTES`` plus a read block) in memory, so a
100 MB file streams through a function of any size. A chunk is a byte range of whole lines: the
validator records chunks as it reads, and a worker later fetches exactly its range (an S3 ranged GET)
and numbers its lines from ``first_line``.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain

from shared.batches.lines import MAX_LINE_BYTES

BYTE_ORDER_MARK = b"\xef\xbb\xbf"  # UTF-8's; editors on Windows often start a file with it


@dataclass(frozen=True)
class RawLine:
    number: int  # 1-based, blank lines counted
    start: int  # byte offset of the line in the file
    end: int  # byte offset just past its line break (or the end of the file)
    data: bytes  # without the line break; empty when the line was too long to keep
    too_long: bool = False


@dataclass(frozen=True)
class Chunk:
    index: int
    first_line: int
    start: int
    end: int  # exclusive
    lines: int  # lines that are not blank

    @property
    def byte_range(self) -> str:
        """The HTTP ``Range`` header value that fetches exactly this chunk."""
        return f"bytes={self.start}-{self.end - 1}"


def read_lines(blocks: Iterable[bytes], start: int = 0, first_number: int = 1) -> Iterator[RawLine]:
    """Numbered lines of a stream of byte blocks (e.g. ``StreamingBody.iter_chunks()``), blank ones included.

    ``start`` is the file offset of the first block. A line over ``MAX_LINE_BYTES`` is reported with
    ``too_long`` and its bytes are dropped as they arrive. A UTF-8 byte-order mark at the start of the
    file is not part of its first line: that line (and so the first chunk's byte range) begins after it.
    """
    if start == 0:
        skipped, blocks = _without_byte_order_mark(blocks)
        start += skipped
    position = line_start = start
    number = first_number
    kept = bytearray()
    dropped = False
    for block in blocks:
        index = 0
        while index < len(block):
            newline = block.find(b"\n", index)
            stop = len(block) if newline < 0 else newline
            if not dropped:
                kept += block[index:stop]
                if len(kept) > MAX_LINE_BYTES + 1:  # + 1: room for a "\r" before the "\n"
                    kept.clear()
                    dropped = True
            position += stop - index
            if newline < 0:
                break
            position += 1
            yield _line(number, line_start, position, kept, dropped)
            number, line_start, dropped = number + 1, position, False
            kept.clear()
            index = newline + 1
    if position > line_start:
        yield _line(number, line_start, position, kept, dropped)


def _without_byte_order_mark(blocks: Iterable[bytes]) -> tuple[int, Iterator[bytes]]:
    """The blocks without a leading byte-order mark, and how many bytes that removed (0 or 3)."""
    remaining = iter(blocks)
    head = b""
    for block in remaining:
        head += block
        if len(head) >= len(BYTE_ORDER_MARK):
            break
    if head.startswith(BYTE_ORDER_MARK):
        return len(BYTE_ORDER_MARK), chain([head[len(BYTE_ORDER_MARK) :]], remaining)
    return 0, chain([head], remaining)


def _line(number: int, start: int, end: int, kept: bytearray, dropped: bool) -> RawLine:
    data = b"" if dropped else bytes(kept[:-1] if kept.endswith(b"\r") else kept)
    return RawLine(number, start, end, data, too_long=dropped)


class ChunkPlanner:
    """Groups consecutive lines into chunks of at most ``max_lines`` non-blank lines and ``max_bytes``."""

    def __init__(self, max_lines: int, max_bytes: int, first_index: int = 0) -> None:
        self._max_lines = max_lines
        self._max_bytes = max_bytes
        self._index = first_index
        self._open: Chunk | None = None

    def add(self, line: RawLine) -> Chunk | None:
        """Take the next line; returns the chunk it closed, if adding it would overflow the open one."""
        counted = 1 if (line.data.strip() or line.too_long) else 0
        closed = None
        current = self._open
        if current is not None and (
            current.lines + counted > self._max_lines or line.end - current.start > self._max_bytes
        ):
            closed, current = current, None
            self._index += 1
        if current is None:
            current = Chunk(self._index, line.number, line.start, line.start, 0)
        self._open = Chunk(current.index, current.first_line, current.start, line.end, current.lines + counted)
        return closed

    def finish(self) -> Chunk | None:
        """The last, partly filled chunk (None if no line was added since the last one closed)."""
        last, self._open = self._open, None
        return last
