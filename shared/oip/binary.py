"""Triton's binary tensor data: little-endian fixed-width elements; BYTES as uint32 length + bytes."""

import struct
from collections.abc import Sequence
from typing import Any

from shared.oip.tensors import OipError

STRUCT_CODES = {
    "BOOL": "?",
    "UINT8": "B",
    "UINT16": "H",
    "UINT32": "I",
    "UINT64": "Q",
    "INT8": "b",
    "INT16": "h",
    "INT32": "i",
    "INT64": "q",
    "FP16": "e",
    "FP32": "f",
    "FP64": "d",
}
_LENGTH = struct.Struct("<I")


def decode_binary(datatype: str, raw: bytes, count: int, what: str) -> list[Any]:
    """``count`` elements of ``datatype`` read from exactly ``raw`` (BYTES elements are decoded as UTF-8)."""
    if datatype == "BYTES":
        return _decode_bytes(raw, count, what)
    if datatype == "BOOL":
        if len(raw) != count:
            raise OipError(f"{what} has {len(raw)} bytes of binary data; {count} BOOL elements take {count}.")
        if raw.strip(b"\x00\x01"):
            raise OipError(f"{what} has a BOOL byte that is neither 0 nor 1.")
        return [byte == 1 for byte in raw]
    code = STRUCT_CODES[datatype]
    expected = count * struct.calcsize(code)
    if len(raw) != expected:
        raise OipError(f"{what} has {len(raw)} bytes of binary data; {count} {datatype} elements take {expected}.")
    return list(struct.unpack(f"<{count}{code}", raw))


def _decode_bytes(raw: bytes, count: int, what: str) -> list[Any]:
    strings: list[str] = []
    offset = 0
    for _ in range(count):
        if offset + _LENGTH.size > len(raw):
            raise OipError(f"{what} has fewer BYTES elements in its binary data than its shape needs.")
        (length,) = _LENGTH.unpack_from(raw, offset)
        offset += _LENGTH.size
        if offset + length > len(raw):
            raise OipError(f"{what} has a BYTES element longer than the rest of its binary data.")
        try:
            strings.append(raw[offset : offset + length].decode("utf-8"))
        except UnicodeDecodeError:
            raise OipError(f"{what} has a BYTES element that is not valid UTF-8.") from None
        offset += length
    if offset != len(raw):
        raise OipError(f"{what} has more binary data than its shape's {count} BYTES elements.")
    return strings


def encode_binary(datatype: str, data: Sequence[Any], what: str) -> bytes:
    """The binary form of already checked elements (BYTES ``str`` elements are encoded as UTF-8)."""
    if datatype == "BYTES":
        parts: list[bytes] = []
        for element in data:
            blob = element if isinstance(element, bytes) else str(element).encode("utf-8")
            parts.append(_LENGTH.pack(len(blob)))
            parts.append(blob)
        return b"".join(parts)
    try:
        return struct.pack(f"<{len(data)}{STRUCT_CODES[datatype]}", *data)
    except (OverflowError, struct.error):
        raise OipError(f"{what} holds a value that does not fit {datatype}.") from None
