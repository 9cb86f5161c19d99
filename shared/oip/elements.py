"""Per-datatype checks of Python element values (from JSON or from a model)."""

import struct
from collections.abc import Sequence
from typing import Any

from shared.oip.tensors import OipError

INT_RANGES: dict[str, tuple[int, int]] = {
    "INT8": (-(2**7), 2**7 - 1),
    "INT16": (-(2**15), 2**15 - 1),
    "INT32": (-(2**31), 2**31 - 1),
    "INT64": (-(2**63), 2**63 - 1),
    "UINT8": (0, 2**8 - 1),
    "UINT16": (0, 2**16 - 1),
    "UINT32": (0, 2**32 - 1),
    "UINT64": (0, 2**64 - 1),
}
# Floats narrower than a Python float, rounded through struct so JSON and binary data agree exactly.
NARROW_FLOATS = {"FP16": "e", "FP32": "f"}


def coerce_elements(datatype: str, values: Sequence[Any], what: str) -> list[Any]:
    """The values checked against ``datatype``: bool, int in range, finite-or-not float, or str (BYTES)."""
    if datatype == "BOOL":
        if not _types(values) <= {bool}:
            raise OipError(f"{what} holds a value that is not a boolean (BOOL takes true or false).")
        return list(values)
    if datatype in INT_RANGES:
        return _ints(datatype, values, what)
    if datatype == "BYTES":
        return _strings(values, what)
    return _floats(datatype, values, what)


def _ints(datatype: str, values: Sequence[Any], what: str) -> list[int]:
    if not _types(values) <= {int} and not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise OipError(f"{what} holds a value that is not an integer ({datatype} takes integers).")
    ints = list(map(int, values))
    low, high = INT_RANGES[datatype]
    if ints and not (low <= min(ints) and max(ints) <= high):
        raise OipError(f"{what} holds an integer out of range for {datatype} ({low} to {high}).")
    return ints


def _floats(datatype: str, values: Sequence[Any], what: str) -> list[float]:
    if not _types(values) <= {int, float} and not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in values
    ):
        raise OipError(f"{what} holds a value that is not a number ({datatype} takes numbers).")
    try:
        floats = list(map(float, values))
    except OverflowError:
        raise OipError(f"{what} holds a number out of range for {datatype}.") from None
    code = NARROW_FLOATS.get(datatype)
    if code is None or not floats:
        return floats
    layout = f"<{len(floats)}{code}"
    try:
        return list(struct.unpack(layout, struct.pack(layout, *floats)))
    except (OverflowError, struct.error):
        raise OipError(f"{what} holds a number out of range for {datatype}.") from None


def _strings(values: Sequence[Any], what: str) -> list[Any]:
    if not _types(values) <= {str, bytes} and not all(isinstance(v, str | bytes) for v in values):
        raise OipError(f"{what} holds a value that is not a string (BYTES takes strings).")
    try:
        "".join(v for v in values if isinstance(v, str)).encode("utf-8")
    except UnicodeEncodeError:
        raise OipError(f"{what} holds a string that is not valid Unicode (a lone surrogate).") from None
    return list(values)


def _types(values: Sequence[Any]) -> set[type]:
    """The exact types of the values (a fast first check; subclasses take the slower one)."""
    return set(map(type, values))
