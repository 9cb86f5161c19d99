"""One line of a batch input file: ``{"custom_id": str, "input": {...}}``, parsed strictly.

A line is read the way a request body is: UTF-8 JSON, no duplicate keys, no NaN/Infinity, no lone
surrogates, nesting at most 64 levels, an object with exactly ``custom_id`` and ``input``. What is
wrong with a line is a ``LineError`` with its 1-based line number and a stable code, so a caller can point at it.
Blank lines (including a trailing newline) are skipped, as JSONL readers commonly do. ``read_object`` is
the reading both dialects share (``shared.batches.codecs`` parses OpenAI's lines with it).
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from shared.kernel.jsoncodec import DuplicateKeyError, loads, plain_json_problem

MAX_LINE_BYTES = 256 * 1024  # the size limit of one prediction's input, plus room for the custom_id
MAX_CUSTOM_ID_LENGTH = 64
LINE_TOO_LARGE_MESSAGE = f"The line is over {MAX_LINE_BYTES} bytes."


class LineErrorCode(StrEnum):
    INVALID_JSON = "invalid_json"
    DUPLICATE_KEY = "duplicate_key"
    NOT_AN_OBJECT = "not_an_object"
    INVALID_CUSTOM_ID = "invalid_custom_id"
    INVALID_LINE = "invalid_line"
    DUPLICATE_CUSTOM_ID = "duplicate_custom_id"
    LINE_TOO_LARGE = "line_too_large"
    INVALID_INPUT = "invalid_input"
    # OpenAI's dialect: ``{"custom_id", "method", "url", "body"}``
    INVALID_METHOD = "invalid_method"
    INVALID_URL = "invalid_url"
    INVALID_BODY = "invalid_body"
    MISMATCHED_MODEL = "mismatched_model"


@dataclass(frozen=True)
class BatchLine:
    number: int
    custom_id: str
    input: dict[str, Any]  # the model's input; in OpenAI's dialect, the request's ``body``
    model: str | None = None  # OpenAI's dialect: the model the line names (``body.model``)
    texts: tuple[str, ...] = ()  # OpenAI's dialect: the texts of ``body.input``, one model input each
    single: bool = False  # OpenAI's dialect: ``body.input`` was one string, not a list


@dataclass(frozen=True)
class LineError:
    line: int
    code: LineErrorCode
    message: str
    param: str | None = None  # the field of the line at fault, where one is (OpenAI's ``param``)


NATIVE_LINE_FIELDS = frozenset({"custom_id", "input"})


def parse_line(number: int, raw: bytes) -> BatchLine | LineError:
    """Parse line ``number`` (1-based; ``raw`` without its line break)."""
    read = read_line(number, raw, NATIVE_LINE_FIELDS)
    if isinstance(read, LineError):
        return read
    value, custom_id = read
    payload = value.get("input")
    if not isinstance(payload, dict):
        return LineError(number, LineErrorCode.INVALID_LINE, "input must be a JSON object.")
    problem = plain_json_problem(value)
    if problem is not None:
        return LineError(number, LineErrorCode.INVALID_JSON, f"The line {problem}.")
    return BatchLine(number, custom_id, payload)


def read_line(number: int, raw: bytes, fields: frozenset[str]) -> tuple[dict[str, Any], str] | LineError:
    """A line of either dialect as far as they agree: a JSON object of ``fields`` only, with a ``custom_id``."""
    value = read_object(number, raw)
    if isinstance(value, LineError):
        return value
    custom_id = value.get("custom_id")
    if not isinstance(custom_id, str) or not 1 <= len(custom_id) <= MAX_CUSTOM_ID_LENGTH:
        message = f"custom_id must be a string of 1 to {MAX_CUSTOM_ID_LENGTH} characters."
        return LineError(number, LineErrorCode.INVALID_CUSTOM_ID, message, "custom_id")
    extra = sorted(set(value) - fields)
    if extra:
        name = extra[0][:64]
        return LineError(number, LineErrorCode.INVALID_LINE, f"Unexpected field '{name}'.", name)
    return value, custom_id


def read_object(number: int, raw: bytes) -> dict[str, Any] | LineError:
    """The JSON object of line ``number``: within the size limit, UTF-8, no duplicate key, no NaN."""
    if len(raw) > MAX_LINE_BYTES:
        return LineError(number, LineErrorCode.LINE_TOO_LARGE, LINE_TOO_LARGE_MESSAGE)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as bad:
        return LineError(number, LineErrorCode.INVALID_JSON, _not_utf8(raw, bad))
    try:
        value = loads(text, parse_constant=_refuse_constant)
    except DuplicateKeyError as exc:
        return LineError(number, LineErrorCode.DUPLICATE_KEY, f"The line is not valid JSON: {exc.msg}.")
    except json.JSONDecodeError as bad:
        return LineError(number, LineErrorCode.INVALID_JSON, _not_json(text, bad))
    except _RefusedConstantError as bad:
        return LineError(number, LineErrorCode.INVALID_JSON, f"The line is not valid JSON: {bad}.")
    except ValueError:  # the only other: an integer over Python's 4300-digit conversion limit
        return LineError(number, LineErrorCode.INVALID_JSON, "The line is not valid JSON: a number is too long.")
    except RecursionError:
        return LineError(number, LineErrorCode.INVALID_JSON, "The line is not valid JSON: it is nested too deeply.")
    if not isinstance(value, dict):
        return LineError(number, LineErrorCode.NOT_AN_OBJECT, "The line is not a JSON object.")
    return value


def split_lines(data: bytes, first_number: int = 1) -> Iterator[tuple[int, bytes]]:
    """Numbered lines of ``data`` (``\\n`` or ``\\r\\n`` endings), blank ones skipped but counted."""
    for offset, raw in enumerate(data.split(b"\n")):
        line = raw[:-1] if raw.endswith(b"\r") else raw
        if line.strip():
            yield first_number + offset, line


class _RefusedConstantError(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise _RefusedConstantError(f"{name} is not allowed")


def _not_utf8(raw: bytes, bad: UnicodeDecodeError) -> str:
    """Where the line stops being UTF-8: the byte and its offset in the line (never the line's text)."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "The line starts with a UTF-16 byte-order mark: the file must be UTF-8."
    return f"The line is not valid UTF-8: byte 0x{raw[bad.start]:02X} at byte offset {bad.start} of the line."


def _not_json(text: str, bad: json.JSONDecodeError) -> str:
    if text.startswith("\ufeff"):
        return "The line starts with a byte-order mark (U+FEFF): only the start of the file may have one."
    offset = len(text[: bad.pos].encode("utf-8"))
    return f"The line is not valid JSON: {bad.msg} at byte offset {offset} of the line."
