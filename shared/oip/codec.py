"""Parse OIP infer requests and encode infer responses (JSON, plus Triton's binary data extension)."""

import json
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

from shared.kernel.jsoncodec import DuplicateKeyError, loads
from shared.oip.binary import decode_binary, encode_binary
from shared.oip.elements import coerce_elements
from shared.oip.tensors import (
    OipError,
    Tensor,
    check_datatype,
    check_elements_limit,
    check_shape,
    element_count,
    shown,
)

HEADER_LENGTH = "Inference-Header-Content-Length"
JSON_CONTENT_TYPE = "application/json"
BINARY_CONTENT_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class RequestedOutput:
    """An output the client asked for, and whether it wants it as binary data."""

    name: str
    binary: bool


@dataclass(frozen=True)
class InferRequest:
    """A parsed infer request; ``outputs`` is empty when the client asked for all outputs."""

    id: str | None
    inputs: list[Tensor]
    outputs: list[RequestedOutput] = field(default_factory=list)
    binary_data_output: bool = False
    parameters: dict[str, Any] = field(default_factory=dict)


def parse_header_length(value: str | None) -> int | None:
    """The ``Inference-Header-Content-Length`` header as an int (None when absent), else OipError."""
    if value is None:
        return None
    text = value.strip()
    if not text.isdigit() or not text.isascii() or len(text) > 12:
        raise OipError(f"The {HEADER_LENGTH} header must be a non-negative integer.")
    return int(text)


def parse_infer_request(body: bytes, header_length: int | None) -> InferRequest:
    """Parse an infer request body: a JSON header, then (per ``header_length``) the inputs' binary data."""
    if header_length is None:
        header_length = len(body)
    if header_length < 0 or header_length > len(body):
        raise OipError(f"The {HEADER_LENGTH} header ({header_length}) is larger than the body ({len(body)} bytes).")
    document = _load_json(body[:header_length])
    if not isinstance(document, dict):
        raise OipError("An infer request is a JSON object.")
    request_id = document.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise OipError("The request 'id' must be a string.")
    parameters = _parameters(document, "The request")
    binary_output = bool_parameter(parameters, "binary_data_output", "The request", default=False)
    inputs = _inputs(document.get("inputs"), memoryview(body)[header_length:])
    outputs = _outputs(document.get("outputs"), binary_output)
    return InferRequest(request_id, inputs, outputs, binary_output, parameters)


def _load_json(header: bytes) -> Any:
    try:
        return loads(header.decode("utf-8"), parse_constant=_reject_constant, parse_float=_finite_float)
    except OipError:
        raise
    except DuplicateKeyError as exc:
        raise OipError(f"The request's JSON header is not valid JSON: {exc.msg}.") from None
    except (ValueError, RecursionError):
        raise OipError("The request's JSON header is not valid JSON (UTF-8, no NaN or Infinity).") from None


def _reject_constant(name: str) -> Any:
    raise OipError("JSON data cannot carry NaN or Infinity; send such a tensor as binary data.")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise OipError("The request's JSON holds a number too large for a 64-bit float.")
    return value


def _parameters(document: dict[str, Any], what: str) -> dict[str, Any]:
    parameters = document.get("parameters", {})
    if not isinstance(parameters, dict):
        raise OipError(f"{what}'s 'parameters' must be a JSON object.")
    return parameters


def bool_parameter(parameters: dict[str, Any], key: str, what: str, *, default: bool) -> bool:
    value = parameters.get(key, default)
    if not isinstance(value, bool):
        raise OipError(f"{what}'s parameter '{key}' must be true or false.")
    return value


@dataclass(frozen=True)
class _InputHeader:
    """One input's JSON description; ``binary`` is its slice of the bytes after the JSON header, if any."""

    name: str
    datatype: str
    shape: tuple[int, ...]
    raw: dict[str, Any]
    binary: memoryview | None


def _inputs(raw_inputs: object, binary: memoryview) -> list[Tensor]:
    """All inputs' headers are checked (names, shapes, sizes, limits) before any data is decoded."""
    if not isinstance(raw_inputs, list) or not raw_inputs:
        raise OipError("An infer request needs 'inputs': a non-empty list of tensors.")
    headers: list[_InputHeader] = []
    names: set[str] = set()
    total = offset = 0
    for index, raw in enumerate(raw_inputs):
        header = _input_header(index, raw, binary[offset:])
        if header.name in names:
            raise OipError(f"Input {shown(header.name)} appears more than once.")
        names.add(header.name)
        headers.append(header)
        total += element_count(header.shape)
        check_elements_limit(total, "The request's inputs")
        offset += 0 if header.binary is None else len(header.binary)
    if offset != len(binary):
        raise OipError(f"The body has {len(binary) - offset} bytes after the JSON header that no input claims.")
    return [_input_tensor(h) for h in headers]


def _input_header(index: int, raw: object, binary: memoryview) -> _InputHeader:
    if not isinstance(raw, dict):
        raise OipError(f"inputs[{index}] must be a JSON object.")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise OipError(f"inputs[{index}] needs a non-empty string 'name'.")
    what = f"Input {shown(name)}"
    datatype = check_datatype(raw.get("datatype"), what)
    shape = check_shape(raw.get("shape"), what)
    parameters = _parameters(raw, what)
    if "shared_memory_region" in parameters:
        raise OipError(f"{what} uses shared memory, which this server does not support.")
    size = parameters.get("binary_data_size")
    if size is None:
        return _InputHeader(name, datatype, shape, raw, None)
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise OipError(f"{what} has a 'binary_data_size' that is not a non-negative integer.")
    if "data" in raw:
        raise OipError(f"{what} has both 'data' and binary data; send one or the other.")
    if size > len(binary):
        raise OipError(
            f"{what} needs {size} bytes of binary data but only {len(binary)} remain after the JSON header "
            f"(is the {HEADER_LENGTH} header right?)."
        )
    return _InputHeader(name, datatype, shape, raw, binary[:size])


def _input_tensor(header: _InputHeader) -> Tensor:
    what = f"Input {shown(header.name)}"
    count = element_count(header.shape)
    if header.binary is None:
        data = _json_data(header.raw, header.datatype, header.shape, what)
    else:
        data = decode_binary(header.datatype, bytes(header.binary), count, what)
    return Tensor(header.name, header.datatype, header.shape, data)


def _json_data(raw: dict[str, Any], datatype: str, shape: tuple[int, ...], what: str) -> list[Any]:
    if "data" not in raw:
        raise OipError(f"{what} has no 'data' and no 'binary_data_size' parameter.")
    values = _flatten(raw["data"], max(len(shape), 1), what)
    count = element_count(shape)
    if len(values) != count:
        raise OipError(f"{what} has {len(values)} elements in 'data' but its shape {list(shape)} needs {count}.")
    return coerce_elements(datatype, values, what)


def _flatten(data: object, max_depth: int, what: str) -> list[Any]:
    """Row-major elements of flat or nested ``data``, nested at most ``max_depth`` lists deep."""
    if not isinstance(data, list):
        raise OipError(f"{what} has 'data' that is not a list.")
    level: list[Any] = data
    depth = 1
    while True:
        types = set(map(type, level))
        if list not in types:
            return level
        if types != {list}:
            raise OipError(f"{what} has 'data' mixing lists and values at one level.")
        if depth == max_depth:
            raise OipError(f"{what} has 'data' nested deeper than its shape.")
        level = [element for item in level for element in item]
        depth += 1


def _outputs(raw_outputs: object, binary_output: bool) -> list[RequestedOutput]:
    if raw_outputs is None:
        return []
    if not isinstance(raw_outputs, list):
        raise OipError("The request's 'outputs' must be a list.")
    outputs: list[RequestedOutput] = []
    for index, raw in enumerate(raw_outputs):
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"]:
            raise OipError(f"outputs[{index}] must be a JSON object with a non-empty string 'name'.")
        name: str = raw["name"]
        what = f"Requested output {shown(name)}"
        if any(o.name == name for o in outputs):
            raise OipError(f"{what} appears more than once.")
        parameters = _parameters(raw, what)
        if "shared_memory_region" in parameters:
            raise OipError(f"{what} uses shared memory, which this server does not support.")
        if parameters.get("classification", 0) != 0:
            raise OipError(f"{what} asks for classification, which this server does not support.")
        binary = bool_parameter(parameters, "binary_data", what, default=binary_output)
        outputs.append(RequestedOutput(name, binary))
    return outputs


def plan_outputs(request: InferRequest, available: Sequence[str]) -> list[RequestedOutput]:
    """The outputs to return (those requested, else all ``available``) and whether each goes as binary data."""
    if not request.outputs:
        return [RequestedOutput(name, request.binary_data_output) for name in available]
    known = set(available)
    for output in request.outputs:
        if output.name not in known:
            raise OipError(f"The model has no output {shown(output.name)}.")
    return list(request.outputs)


def select_outputs(request: InferRequest, outputs: Sequence[Tensor]) -> tuple[list[Tensor], set[str]]:
    """The output tensors to return, in response order, and the names of those to send as binary data."""
    plan = plan_outputs(request, [t.name for t in outputs])
    by_name = {t.name: t for t in outputs}
    return [by_name[o.name] for o in plan], {o.name for o in plan if o.binary}


def encode_infer_response(
    model_name: str,
    model_version: str,
    request_id: str | None,
    outputs: list[Tensor],
    binary: Callable[[str], bool] | AbstractSet[str],
) -> tuple[bytes, dict[str, str]]:
    """The response body and its headers; binary outputs' data follows the JSON header, in output order."""
    is_binary = binary.__contains__ if isinstance(binary, AbstractSet) else binary
    document: dict[str, Any] = {"model_name": model_name, "model_version": model_version}
    if request_id is not None:
        document["id"] = request_id
    if len({t.name for t in outputs}) != len(outputs):
        raise OipError("Two outputs share a name.")
    entries: list[dict[str, Any]] = []
    blobs: list[bytes] = []
    for tensor in outputs:
        what = f"Output {shown(tensor.name)}"
        datatype = check_datatype(tensor.datatype, what)
        shape = check_shape(list(tensor.shape), what)
        if len(tensor.data) != element_count(shape):
            count = element_count(shape)
            raise OipError(f"{what} has {len(tensor.data)} elements but its shape {list(shape)} needs {count}.")
        data = coerce_elements(datatype, tensor.data, what)
        entry: dict[str, Any] = {"name": tensor.name, "datatype": datatype, "shape": list(shape)}
        if is_binary(tensor.name):
            blob = encode_binary(datatype, data, what)
            entry["parameters"] = {"binary_data_size": len(blob)}
            blobs.append(blob)
        else:
            entry["data"] = _json_elements(datatype, data, what)
        entries.append(entry)
    document["outputs"] = entries
    header = json.dumps(document, separators=(",", ":"), ensure_ascii=False, allow_nan=True).encode("utf-8")
    if not blobs:
        return header, {"Content-Type": JSON_CONTENT_TYPE}
    headers = {"Content-Type": BINARY_CONTENT_TYPE, HEADER_LENGTH: str(len(header))}
    return header + b"".join(blobs), headers


def _json_elements(datatype: str, data: list[Any], what: str) -> list[Any]:
    if datatype != "BYTES" or not any(isinstance(v, bytes) for v in data):
        return data
    try:
        return [v.decode("utf-8") if isinstance(v, bytes) else v for v in data]
    except UnicodeDecodeError:
        raise OipError(f"{what} holds bytes that are not UTF-8; request it as binary data.") from None
