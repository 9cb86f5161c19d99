"""A chunk's lines read back from the batch's input, and the error part of a chunk that did not run.

A chunk skipped because its batch was canceling, or given up by the sweeper, still accounts for each of
its lines: one error line per ``custom_id``, coded ``canceled`` or ``timeout``, so every line of a
finished batch is in exactly one of its two files and ``completed + failed`` is its ``total``.
"""

import json
from typing import Any

from shared.batches.lines import BatchLine, parse_line, split_lines
from shared.batches.models import Batch, ChunkOutcome, ChunkResult
from shared.batches.object_keys import input_key, unrun_part_key
from shared.batches.ports import BatchFiles

UNRUN_MESSAGES = {
    ChunkOutcome.CANCELED: "The batch was canceled before this line ran.",
    ChunkOutcome.TIMED_OUT: "The batch did not run this line in time.",
    ChunkOutcome.EXPIRED: "The batch's completion window ended before this line ran.",
}


def chunk_lines(files: BatchFiles, batch: Batch, first_line: int, start: int, end: int) -> list[BatchLine]:
    """The lines of bytes ``start``-``end`` of the batch's (validated) input, numbered from ``first_line``."""
    data = files.read_range(input_key(batch), start, end)
    lines: list[BatchLine] = []
    for number, raw in split_lines(data, first_line):
        parsed = parse_line(number, raw)
        if not isinstance(parsed, BatchLine):  # validated before: only a changed object gets here
            raise ValueError(f"line {number} of a validated batch does not parse")
        lines.append(parsed)
    return lines


def skip_chunk(
    files: BatchFiles, batch: Batch, chunk: int, first_line: int, start: int, end: int, outcome: ChunkOutcome
) -> ChunkResult:
    """Write the error part of a chunk whose lines will not run; the result that counts them as failed."""
    message = UNRUN_MESSAGES[outcome]
    lines = chunk_lines(files, batch, first_line, start, end)
    rows = [
        jsonl({"custom_id": line.custom_id, "error": {"code": outcome.value, "message": message}}) for line in lines
    ]
    files.put(unrun_part_key(batch, chunk, outcome), b"".join(rows))
    return ChunkResult(chunk, failed=len(lines), outcome=outcome)


def jsonl(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n"
