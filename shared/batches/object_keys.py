"""Where a batch's objects live in the bucket: ``batches/<tenant>/<batch id>/...``."""

from shared.batches.models import Batch, ChunkOutcome


def _folder(batch: Batch) -> str:
    return f"batches/{batch.tenant}/{batch.id}"


def _part(batch: Batch, chunk: int, name: str) -> str:
    """A chunk's own object: ``parts/<chunk number, six digits: they sort in order>.<name>``."""
    return f"{_folder(batch)}/parts/{chunk:06d}.{name}"


def input_key(batch: Batch) -> str:
    """The batch's own copy of its input file (the upload could be replaced; this cannot)."""
    return f"{_folder(batch)}/input.jsonl"


def validation_key(batch: Batch) -> str:
    return f"{_folder(batch)}/validation.json"


def output_part_key(batch: Batch, chunk: int) -> str:
    return _part(batch, chunk, "output.jsonl")


def errors_part_key(batch: Batch, chunk: int) -> str:
    return _part(batch, chunk, "errors.jsonl")


def unrun_part_key(batch: Batch, chunk: int, outcome: ChunkOutcome) -> str:
    """The error lines of a chunk that did not run; a name per outcome, so a cancel and the sweeper,
    racing for the same chunk, never write one object: only the outcome that was counted is read."""
    return _part(batch, chunk, f"{outcome.value}.jsonl")


def output_key(batch: Batch) -> str:
    return f"{_folder(batch)}/output.jsonl"


def errors_key(batch: Batch) -> str:
    return f"{_folder(batch)}/errors.jsonl"


def alone_key(batch: Batch, chunk: int) -> str:
    """The progress of a chunk whose lines run one at a time (never read by the finalizer)."""
    return _part(batch, chunk, "alone.json")
