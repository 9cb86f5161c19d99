"""Reading a prediction's input from ``key=value`` pairs and ``--input``."""

import json
import math
import sys
from pathlib import Path
from typing import Any, TextIO

PAIRS_HELP = (
    "KEY=VALUE sets a field of the input: VALUE is read as JSON when it parses (x=3 is a number, "
    'on=true a boolean, tags=\'["a","b"]\' a list) and as a string otherwise (text=hello). '
    "KEY==VALUE always makes a string (zip==02134, answer==true)."
)


class InputError(ValueError):
    """An input the command line cannot read: a usage error."""


class _NonJsonNumberError(ValueError):
    """NaN, Infinity, or a number too large for a float: Python's json reads them, JSON cannot carry them."""

    def __init__(self, token: str) -> None:
        super().__init__(f"{token} is not a number JSON can carry")
        self.token = token


def _refuse_constant(token: str) -> Any:
    raise _NonJsonNumberError(token)


def _finite_float(token: str) -> float:
    number = float(token)
    if not math.isfinite(number):
        raise _NonJsonNumberError(token)
    return number


def _loads(text: str) -> Any:
    """JSON text, refusing the numbers the request body could not be encoded with."""
    return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)


def _is_utf8(text: str) -> bool:
    """False for text holding lone surrogates: bytes that were not UTF-8 (arguments, stdin) decoded leniently."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_pair(pair: str) -> tuple[str, Any]:
    """``key=value`` (JSON when it parses, else a string) or ``key==value`` (always a string)."""
    key, sep, value = pair.partition("=")
    if not sep or not key:
        raise InputError(f"expected KEY=VALUE or KEY==VALUE, got {pair!r}")
    if not _is_utf8(pair):
        raise InputError(f"{pair!r} is not UTF-8 text")
    if value.startswith("="):
        return key, value[1:]
    try:
        return key, _loads(value)
    except _NonJsonNumberError as error:
        raise InputError(f"{pair!r}: {error} (for the text, write {key}=={value})") from error
    except ValueError:
        return key, value


def read_json_argument(argument: str, what: str, stdin: TextIO | None = None) -> Any:
    """``@file.json``, ``-`` (stdin) or inline JSON text."""
    origin = "stdin" if argument == "-" else repr(argument[1:])
    try:
        if argument == "-":
            source = (stdin or sys.stdin).read()
        elif argument.startswith("@"):
            source = Path(argument[1:]).read_text(encoding="utf-8")
        else:
            source = argument
    except OSError as error:
        raise InputError(f"cannot read {what} from {origin}: {error.strerror or error}") from error
    except UnicodeDecodeError as error:
        raise InputError(f"cannot read {what} from {origin}: not UTF-8 text (byte {error.start})") from error
    if not _is_utf8(source):
        raise InputError(f"{what} is not UTF-8 text")
    try:
        return _loads(source)
    except _NonJsonNumberError as error:
        raise InputError(f"{what} holds {error.token}, a number JSON cannot carry") from error
    except ValueError as error:
        raise InputError(f"{what} is not valid JSON: {error}") from error


def build_input(pairs: list[str], raw: str | None, stdin: TextIO | None = None) -> dict[str, Any]:
    """The input object: ``--input``'s object, then each pair set on it (a pair wins over the same key)."""
    base: Any = {} if raw is None else read_json_argument(raw, "--input", stdin)
    if not isinstance(base, dict):
        raise InputError("--input must be a JSON object")
    data = dict(base)
    for pair in pairs:
        key, value = parse_pair(pair)
        data[key] = value
    if not data:
        raise InputError("no input: give KEY=VALUE pairs or --input")
    return data
