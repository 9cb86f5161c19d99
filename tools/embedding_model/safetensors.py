"""Read a ``.safetensors`` file into numpy arrays (the format: an 8-byte little-endian header length, a JSON
header naming each tensor's dtype, shape and byte range, then the raw little-endian data).

Only what a BERT checkpoint holds is accepted (float32, float16, int64); anything malformed is an error,
never a guess. The ``safetensors`` package would do the same but is not a dependency of this project.
"""

import json
import struct
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

HEADER_LIMIT = 100 * 1024 * 1024  # the format's own limit for the JSON header
DTYPES: Mapping[str, np.dtype[np.generic]] = {
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"),
}


class SafetensorsError(ValueError):
    """The bytes are not a well-formed safetensors file of supported dtypes."""


def read_safetensors(data: bytes) -> dict[str, npt.NDArray[np.generic]]:
    """Every tensor of ``data`` by name, as read-only arrays over copies of the bytes."""
    if len(data) < 8:
        raise SafetensorsError("shorter than the 8-byte header length")
    (header_length,) = struct.unpack("<Q", data[:8])
    if header_length > min(HEADER_LIMIT, len(data) - 8):
        raise SafetensorsError(f"header length {header_length} runs past the file or the format's limit")
    try:
        header = json.loads(data[8 : 8 + header_length])
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SafetensorsError("the header is not JSON") from exc
    if not isinstance(header, dict):
        raise SafetensorsError("the header is not a JSON object")
    body = memoryview(data)[8 + header_length :]
    tensors: dict[str, npt.NDArray[np.generic]] = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        tensors[name] = _tensor(name, entry, body)
    return tensors


def _tensor(name: str, entry: object, body: memoryview) -> npt.NDArray[np.generic]:
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        raise SafetensorsError(f"{name}: entry {entry!r} is not {{dtype, shape, data_offsets}}")
    dtype = DTYPES.get(entry["dtype"])
    if dtype is None:
        raise SafetensorsError(f"{name}: unsupported dtype {entry['dtype']!r}")
    shape, offsets = entry["shape"], entry["data_offsets"]
    if not (isinstance(shape, list) and all(isinstance(d, int) and d >= 0 for d in shape)):
        raise SafetensorsError(f"{name}: bad shape {shape!r}")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets)):
        raise SafetensorsError(f"{name}: bad data_offsets {offsets!r}")
    begin, end = offsets
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if not 0 <= begin <= end <= len(body) or end - begin != expected:
        raise SafetensorsError(f"{name}: data_offsets {offsets} do not hold {shape} of {entry['dtype']}")
    array = np.frombuffer(body[begin:end].tobytes(), dtype=dtype).reshape(shape)
    array.flags.writeable = False
    return array
