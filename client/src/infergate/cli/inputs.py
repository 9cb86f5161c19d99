"""Reading a prediction's input from ``key=value`` pairs and ``--input``."""

import json
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


def parse_pair(pair: str) -> tuple[str, Any]:
    """``key=value`` (JSON when it parses, else a string) or ``key==value`` (always a string)."""
    key, sep, value = pair.partition("=")
    if not sep or not key:
        raise InputError(f"expected KEY=VALUE or KEY==VALUE, got {pair!r}")
    if value.startswith("="):
        return key, value[1:]
    try:
        return key, json.loads(value)
    except ValueError:
        return key, value


def read_json_argument(argument: str, what: str, stdin: TextIO | None = None) -> Any:
    """``@file.json``, ``-`` (stdin) or inline JSON text."""
    try:
        if argument == "-":
            source = (stdin or sys.stdin).read()
        elif argument.startswith("@"):
            source = Path(argument[1:]).read_text(encoding="utf-8")
        else:
            source = argument
    except OSError as error:
        raise InputError(f"cannot read {what} from {argument[1:]!r}: {error.strerror or error}") from error
    try:
        return json.loads(source)
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
