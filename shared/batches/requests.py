"""A create request in each dialect, and what the create checks in OpenAI's before it stores anything.

Infergate's: ``model`` and an input (``input_upload_id``, or ``input_file_id``), a webhook, metadata.
OpenAI's: ``input_file_id``, ``endpoint`` (``/v1/embeddings``, the only one a batch serves),
``completion_window`` (``24h``), metadata; its model is the one its lines name, so the create reads the
file's first line (one ranged GET of at most a line's limit) and pins that model, as a native batch pins
the one it names. A first line that is not a valid line refuses the create, naming the line.
"""

from dataclasses import dataclass, field

from shared.batches.chunks import BYTE_ORDER_MARK
from shared.batches.codecs import SERVED_ENDPOINTS, OpenAiLines
from shared.batches.lines import MAX_LINE_BYTES, BatchLine, split_lines
from shared.batches.models import BatchDialect
from shared.batches.ports import BatchFiles
from shared.files.models import StoredFile
from shared.kernel.errors import FieldError, InvalidRequestError

COMPLETION_WINDOWS = ("24h",)  # OpenAI's only window


@dataclass(frozen=True)
class NewBatch:
    """Infergate's dialect: exactly one of ``input_upload_id`` and ``input_file_id``."""

    model: str
    input_upload_id: str | None = None
    webhook: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    input_file_id: str | None = None

    dialect = BatchDialect.INFERGATE


@dataclass(frozen=True)
class NewOpenAiBatch:
    input_file_id: str
    endpoint: str
    completion_window: str
    metadata: dict[str, str] = field(default_factory=dict)
    webhook: str | None = None  # Infergate's extension (the SDK's ``extra_body``): ``batch.completed``

    dialect = BatchDialect.OPENAI


class InvalidBatchRequestError(InvalidRequestError):
    """A create request the batch cannot serve as asked (422; OpenAI's 400 in its dialect), at ``pointer``."""

    def __init__(self, pointer: str, message: str) -> None:
        super().__init__(message)
        self.errors = [FieldError(pointer, message)]


def check_openai_request(request: NewOpenAiBatch) -> None:
    if request.endpoint not in SERVED_ENDPOINTS:
        served = ", ".join(SERVED_ENDPOINTS)
        message = f"A batch serves only {served}; endpoint '{request.endpoint[:80]}' is not served."
        raise InvalidBatchRequestError("/endpoint", message)
    if request.completion_window not in COMPLETION_WINDOWS:
        windows = ", ".join(COMPLETION_WINDOWS)
        raise InvalidBatchRequestError("/completion_window", f"completion_window must be {windows}.")


def first_line(files: BatchFiles, stored: StoredFile, endpoint: str) -> BatchLine:
    """The file's first line, parsed as a line of an OpenAI batch calling ``endpoint``; else 400 saying
    which line and what is wrong (``param``: ``input_file_id``)."""
    window = MAX_LINE_BYTES + len(BYTE_ORDER_MARK) + 2  # a longest line, after a byte-order mark, and "\r\n"
    head = files.read_range(stored.key, 0, min(stored.size, window)) if stored.size else b""
    complete = stored.size <= window
    if not complete:
        head = head[: head.rfind(b"\n") + 1]  # whole lines only
    if head.startswith(BYTE_ORDER_MARK):
        head = head[len(BYTE_ORDER_MARK) :]
    found = next(split_lines(head), None)
    if found is None:
        message = "The file has no lines." if complete else f"Line 1: the line is over {MAX_LINE_BYTES} bytes."
        raise InvalidBatchRequestError("/input_file_id", message)
    number, raw = found
    parsed = OpenAiLines(endpoint).parse(number, raw)
    if not isinstance(parsed, BatchLine):
        where = f" ({parsed.param})" if parsed.param else ""
        message = f"Line {number} of the input file is not a valid batch line{where}: {parsed.message}"
        raise InvalidBatchRequestError("/input_file_id", message)
    return parsed
