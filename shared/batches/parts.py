"""A chunk's lines read back from the batch's input, and the error part of a chunk that did not run.

A chunk skipped because its batch was canceling, or given up by the sweeper, still accounts for each of
its lines: one error line per ``custom_id``, coded ``canceled`` or ``timeout`` (in OpenAI's dialect
``batch_cancelled`` or ``batch_expired``), so every line of a finished batch is in exactly one of its two
files and ``completed + failed`` is its ``total``.
"""

from shared.batches.codecs import codec_for
from shared.batches.lines import BatchLine, split_lines
from shared.batches.models import Batch, ChunkOutcome, ChunkResult
from shared.batches.object_keys import input_key, unrun_part_key
from shared.batches.ports import BatchFiles


def chunk_lines(files: BatchFiles, batch: Batch, first_line: int, start: int, end: int) -> list[BatchLine]:
    """The lines of bytes ``start``-``end`` of the batch's (validated) input, numbered from ``first_line``."""
    data = files.read_range(input_key(batch), start, end)
    codec = codec_for(batch)
    lines: list[BatchLine] = []
    for number, raw in split_lines(data, first_line):
        parsed = codec.parse(number, raw)
        if not isinstance(parsed, BatchLine):  # validated before: only a changed object gets here
            raise ValueError(f"line {number} of a validated batch does not parse")
        lines.append(parsed)
    return lines


def skip_chunk(
    files: BatchFiles, batch: Batch, chunk: int, first_line: int, start: int, end: int, outcome: ChunkOutcome
) -> ChunkResult:
    """Write the error part of a chunk whose lines will not run; the result that counts them as failed."""
    codec = codec_for(batch)
    lines = chunk_lines(files, batch, first_line, start, end)
    files.put(unrun_part_key(batch, chunk, outcome), b"".join(codec.unrun(batch, line, outcome) for line in lines))
    return ChunkResult(chunk, failed=len(lines), outcome=outcome)
