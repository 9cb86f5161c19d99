"""OIP infer request/response codec, checked against the real tritonclient encoder and decoder (no network)."""

import json
import math
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import tritonclient.http as httpclient

from shared.oip.binary import encode_binary
from shared.oip.codec import (
    HEADER_LENGTH,
    InferRequest,
    RequestedOutput,
    encode_infer_response,
    parse_header_length,
    parse_infer_request,
    plan_outputs,
    select_outputs,
)
from shared.oip.tensors import MAX_ELEMENTS, OipError, Tensor

Client = httpclient.InferenceServerClient
ROOT = Path(__file__).resolve().parents[2]

ARRAYS: dict[str, npt.NDArray[Any]] = {
    "FP32": np.array([[1.5, -2.25, 0.1], [3.0, 1e-3, -7.0]], dtype=np.float32),
    "FP64": np.array([[0.1, 2.5e300], [-1e-300, 42.0]], dtype=np.float64),
    "INT64": np.array([-(2**63), 2**63 - 1, 0, 7], dtype=np.int64),
    "INT32": np.array([[-(2**31)], [2**31 - 1], [5]], dtype=np.int32),
    "BOOL": np.array([[True, False, True]], dtype=bool),
    "UINT8": np.array([0, 255, 7], dtype=np.uint8),
    "FP16": np.array([0.5, -1.0, 65504.0, 0.1], dtype=np.float16),
    "BYTES": np.array([["hello", "héllo wörld ✓"], ["", "日本語 🙂"]], dtype=np.object_),
}


def _request(
    inputs: dict[str, npt.NDArray[Any]],
    binary: bool,
    outputs: list[tuple[str, bool]] | None = None,
    request_id: str = "",
) -> tuple[bytes, int | None]:
    """A request body as tritonclient builds it, and its Inference-Header-Content-Length (None when absent)."""
    infer_inputs = []
    for name, array in inputs.items():
        datatype = "BYTES" if array.dtype == np.object_ else httpclient.np_to_triton_dtype(array.dtype)
        infer_inputs.append(httpclient.InferInput(name, list(array.shape), datatype))
        infer_inputs[-1].set_data_from_numpy(array, binary_data=binary)
    requested = None if outputs is None else [httpclient.InferRequestedOutput(n, binary_data=b) for n, b in outputs]
    body, json_size = Client.generate_request_body(infer_inputs, outputs=requested, request_id=request_id)
    return body, json_size


def _expected_data(array: npt.NDArray[Any]) -> list[Any]:
    if array.dtype == np.object_:
        return [str(v) for v in array.flatten()]
    return list(array.flatten().tolist())


def _decode(body: bytes, headers: dict[str, str]) -> Any:
    length = headers.get(HEADER_LENGTH)
    return Client.parse_response_body(body, header_length=None if length is None else int(length))


@pytest.mark.parametrize("binary", [False, True], ids=["json", "binary"])
@pytest.mark.parametrize("datatype", list(ARRAYS))
def test_request_from_tritonclient_parses_to_the_same_tensor(datatype: str, binary: bool) -> None:
    array = ARRAYS[datatype]
    body, json_size = _request({"x": array}, binary, outputs=[("y", binary)], request_id="req-1")

    assert (json_size is not None) == binary
    request = parse_infer_request(body, json_size)

    assert request.id == "req-1"
    assert request.outputs == [RequestedOutput("y", binary)]
    assert request.binary_data_output is False
    [tensor] = request.inputs
    assert (tensor.name, tensor.datatype, tensor.shape) == ("x", datatype, array.shape)
    assert tensor.data == _expected_data(array)


@pytest.mark.parametrize("binary", [False, True], ids=["json", "binary"])
@pytest.mark.parametrize("datatype", list(ARRAYS))
def test_response_decodes_with_tritonclient(datatype: str, binary: bool) -> None:
    array = ARRAYS[datatype]
    output = Tensor("y", datatype, array.shape, _expected_data(array))

    body, headers = encode_infer_response("echo", "1", "req-1", [output], {"y"} if binary else set())

    assert headers["Content-Type"] == ("application/octet-stream" if binary else "application/json")
    assert (HEADER_LENGTH in headers) == binary
    result = _decode(body, headers)
    assert result.get_response()["model_name"] == "echo"
    assert result.get_response()["model_version"] == "1"
    assert result.get_response()["id"] == "req-1"
    decoded = result.as_numpy("y")
    if datatype == "BYTES":
        # tritonclient returns bytes for binary BYTES outputs and str for JSON ones.
        expected = np.array([s.encode("utf-8") if binary else s for s in array.flatten()], dtype=np.object_)
        np.testing.assert_array_equal(decoded, expected.reshape(array.shape))
    else:
        assert decoded.dtype == array.dtype
        np.testing.assert_array_equal(decoded, array)


def test_mixed_inputs_consume_binary_data_in_order() -> None:
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    words = np.array(["a", "bé"], dtype=np.object_)
    flags = np.array([True, False], dtype=bool)
    inputs = [
        httpclient.InferInput("x", [2, 3], "FP32").set_data_from_numpy(x, binary_data=True),
        httpclient.InferInput("words", [2], "BYTES").set_data_from_numpy(words, binary_data=False),
        httpclient.InferInput("flags", [2], "BOOL").set_data_from_numpy(flags, binary_data=True),
    ]
    body, json_size = Client.generate_request_body(inputs)

    request = parse_infer_request(body, json_size)

    assert [t.name for t in request.inputs] == ["x", "words", "flags"]
    assert request.inputs[0].data == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert request.inputs[1].data == ["a", "bé"]
    assert request.inputs[2].data == [True, False]


def test_no_requested_outputs_returns_all_outputs_as_binary() -> None:
    body, json_size = _request({"x": ARRAYS["FP32"]}, binary=False)
    assert json.loads(body)["parameters"] == {"binary_data_output": True}

    request = parse_infer_request(body, json_size)
    assert request.outputs == []
    assert request.binary_data_output is True

    outputs = [Tensor("label", "BYTES", (2,), ["neg", "pos"]), Tensor("score", "FP64", (2,), [0.25, 0.75])]
    selected, binary = select_outputs(request, outputs)
    assert selected == outputs
    assert binary == {"label", "score"}

    body, headers = encode_infer_response("m", "3", request.id, selected, binary)
    result = _decode(body, headers)
    assert "id" not in result.get_response()
    np.testing.assert_array_equal(result.as_numpy("label"), np.array([b"neg", b"pos"], dtype=np.object_))
    np.testing.assert_array_equal(result.as_numpy("score"), np.array([0.25, 0.75]))


def test_requested_outputs_choose_their_own_format_and_order() -> None:
    body, json_size = _request({"x": ARRAYS["FP32"]}, binary=True, outputs=[("score", False), ("label", True)])
    request = parse_infer_request(body, json_size)
    outputs = [
        Tensor("label", "BYTES", (2,), ["neg", "pos"]),
        Tensor("score", "FP32", (2, 1), [0.25, 0.5]),
        Tensor("unused", "INT64", (1,), [1]),
    ]

    selected, binary = select_outputs(request, outputs)
    body, headers = encode_infer_response("m", "1", None, selected, lambda name: name in binary)

    assert [t.name for t in selected] == ["score", "label"]
    assert binary == {"label"}
    document = json.loads(body[: int(headers[HEADER_LENGTH])])
    assert document["outputs"][0] == {"name": "score", "datatype": "FP32", "shape": [2, 1], "data": [0.25, 0.5]}
    assert document["outputs"][1]["parameters"] == {"binary_data_size": 14}
    result = _decode(body, headers)
    np.testing.assert_array_equal(result.as_numpy("score"), np.array([[0.25], [0.5]], dtype=np.float32))
    np.testing.assert_array_equal(result.as_numpy("label"), np.array([b"neg", b"pos"], dtype=np.object_))
    assert result.as_numpy("unused") is None


def test_request_level_binary_flag_is_the_default_for_requested_outputs() -> None:
    body = json.dumps(
        {
            "inputs": [{"name": "x", "datatype": "INT64", "shape": [1], "data": [1]}],
            "outputs": [{"name": "a"}, {"name": "b", "parameters": {"binary_data": False}}],
            "parameters": {"binary_data_output": True, "priority": 2},
        }
    ).encode()

    request = parse_infer_request(body, None)

    assert request.outputs == [RequestedOutput("a", True), RequestedOutput("b", False)]
    assert request.parameters == {"binary_data_output": True, "priority": 2}


def test_unknown_requested_output_is_refused() -> None:
    request = InferRequest(None, [], [RequestedOutput("nope", False)])
    with pytest.raises(OipError, match="no output 'nope'"):
        plan_outputs(request, ["label"])


def test_nested_json_data_is_flattened_row_major() -> None:
    body = json.dumps(
        {"inputs": [{"name": "x", "datatype": "FP64", "shape": [2, 2, 1], "data": [[[1], [2]], [[3], [4.5]]]}]}
    ).encode()

    [tensor] = parse_infer_request(body, None).inputs

    assert tensor.shape == (2, 2, 1)
    assert tensor.data == [1.0, 2.0, 3.0, 4.5]


def test_binary_floats_keep_nan_and_infinity() -> None:
    array = np.array([math.nan, math.inf, -math.inf, 1.0], dtype=np.float32)
    body, json_size = _request({"x": array}, binary=True)

    [tensor] = parse_infer_request(body, json_size).inputs

    assert math.isnan(tensor.data[0])
    assert tensor.data[1:] == [math.inf, -math.inf, 1.0]


def test_json_outputs_carry_nan_as_literals_tritonclient_reads() -> None:
    body, headers = encode_infer_response("m", "1", None, [Tensor("y", "FP32", (2,), [math.nan, math.inf])], set())

    decoded = _decode(body, headers).as_numpy("y")

    assert math.isnan(decoded[0])
    assert decoded[1] == math.inf


def test_json_fp32_values_are_rounded_like_binary_ones() -> None:
    body = json.dumps({"inputs": [{"name": "x", "datatype": "FP32", "shape": [2], "data": [0.1, 3]}]}).encode()

    [tensor] = parse_infer_request(body, None).inputs

    assert tensor.data == [struct.unpack("<f", struct.pack("<f", 0.1))[0], 3.0]


def test_empty_tensors_round_trip() -> None:
    body, json_size = _request({"x": np.zeros((0, 3), dtype=np.float32)}, binary=True)
    [tensor] = parse_infer_request(body, json_size).inputs
    assert (tensor.shape, tensor.data) == ((0, 3), [])

    outputs = [Tensor("a", "BYTES", (0,), []), Tensor("b", "INT32", (2, 0), [])]
    body, headers = encode_infer_response("m", "1", None, outputs, {"a"})
    result = _decode(body, headers)
    assert result.as_numpy("a").shape == (0,)
    assert result.as_numpy("b").shape == (2, 0)


def test_bytes_outputs_may_hold_raw_bytes_when_binary() -> None:
    output = Tensor("y", "BYTES", (2,), [b"\xff\x00", "ok"])

    body, headers = encode_infer_response("m", "1", None, [output], {"y"})
    np.testing.assert_array_equal(_decode(body, headers).as_numpy("y"), np.array([b"\xff\x00", b"ok"], dtype=object))

    with pytest.raises(OipError, match="request it as binary data"):
        encode_infer_response("m", "1", None, [output], set())


@pytest.mark.parametrize(
    ("output", "match"),
    [
        (Tensor("y", "FP32", (3,), [1.0]), "has 1 elements but its shape \\[3\\] needs 3"),
        (Tensor("y", "FP8", (1,), [1.0]), "unknown datatype"),
        (Tensor("y", "INT8", (1,), [128]), "out of range for INT8"),
        (Tensor("y", "FP16", (1,), [1e6]), "out of range for FP16"),
        (Tensor("y", "BOOL", (1,), [1]), "not a boolean"),
        (Tensor("y", "FP64", (-1,), []), "non-negative"),
    ],
)
def test_invalid_outputs_are_refused(output: Tensor, match: str) -> None:
    for binary in (set(), {"y"}):
        with pytest.raises(OipError, match=match):
            encode_infer_response("m", "1", None, [output], binary)


def test_outputs_sharing_a_name_are_refused() -> None:
    output = Tensor("y", "FP64", (1,), [1.0])
    with pytest.raises(OipError, match="share a name"):
        encode_infer_response("m", "1", None, [output, output], set())


def _json_request(*inputs: Any, **extra: Any) -> bytes:
    return json.dumps({"inputs": list(inputs), **extra}).encode()


def _x(datatype: str, shape: Any, data: Any) -> dict[str, Any]:
    return {"name": "x", "datatype": datatype, "shape": shape, "data": data}


def _binary_x(datatype: str, shape: list[int], raw: bytes, size: int | None = None) -> tuple[bytes, int]:
    header = _json_request(
        {"name": "x", "datatype": datatype, "shape": shape, "parameters": {"binary_data_size": size or len(raw)}}
    )
    return header + raw, len(header)


_FP32_BINARY, _FP32_LENGTH = _request({"x": np.ones(3, dtype=np.float32)}, binary=True)
assert _FP32_LENGTH is not None

ERROR_CASES: list[tuple[str, bytes, int | None, str]] = [
    ("bad json", b'{"inputs": [', None, "not valid JSON"),
    ("invalid utf-8 json", b'{"id": "\xff"}', None, "not valid JSON"),
    ("deep json", b"[" * 100_000 + b"]" * 100_000, None, "not valid JSON"),
    ("not an object", b"[]", None, "is a JSON object"),
    ("no inputs", b"{}", None, "needs 'inputs'"),
    ("empty inputs", _json_request(), None, "needs 'inputs'"),
    ("input not object", _json_request(3), None, "inputs\\[0\\] must be a JSON object"),
    ("no name", _json_request({"datatype": "FP32", "shape": [1], "data": [1]}), None, "non-empty string 'name'"),
    ("id not string", _json_request(_x("FP32", [1], [1]), id=5), None, "'id' must be a string"),
    ("parameters not object", _json_request(_x("FP32", [1], [1]), parameters=[]), None, "must be a JSON object"),
    ("wrong count", _json_request(_x("FP32", [3], [1, 2])), None, "has 2 elements in 'data' but its shape"),
    ("unknown datatype", _json_request(_x("FP8", [1], [1])), None, "unknown datatype"),
    ("missing datatype", _json_request({"name": "x", "shape": [1], "data": [1]}), None, "unknown datatype"),
    ("duplicate names", _json_request(_x("FP32", [1], [1]), _x("FP32", [1], [2])), None, "more than once"),
    ("int8 out of range", _json_request(_x("INT8", [1], [128])), None, "out of range for INT8"),
    ("uint8 negative", _json_request(_x("UINT8", [1], [-1])), None, "out of range for UINT8"),
    ("uint64 too big", _json_request(_x("UINT64", [1], [2**64])), None, "out of range for UINT64"),
    ("string for number", _json_request(_x("FP32", [1], ["1.0"])), None, "not a number"),
    ("bool for number", _json_request(_x("FP64", [1], [True])), None, "not a number"),
    ("float for int", _json_request(_x("INT64", [1], [1.5])), None, "not an integer"),
    ("bool for int", _json_request(_x("INT32", [1], [False])), None, "not an integer"),
    ("number for bool", _json_request(_x("BOOL", [1], [1])), None, "not a boolean"),
    ("number for bytes", _json_request(_x("BYTES", [1], [1])), None, "not a string"),
    (
        "lone surrogate",
        b'{"inputs":[{"name":"x","datatype":"BYTES","shape":[1],"data":["\\ud800"]}]}',
        None,
        "surrogate",
    ),
    ("fp16 out of range", _json_request(_x("FP16", [1], [70000])), None, "out of range for FP16"),
    ("huge int for float", _json_request(_x("FP64", [1], [10**400])), None, "out of range for FP64"),
    ("json nan", b'{"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[NaN]}]}', None, "NaN or Infinity"),
    ("json infinity", b'{"inputs":[{"name":"x","datatype":"FP64","shape":[1],"data":[-Infinity]}]}', None, "NaN"),
    ("json overflow", b'{"inputs":[{"name":"x","datatype":"FP64","shape":[1],"data":[1e400]}]}', None, "too large"),
    ("negative dim", _json_request(_x("FP32", [-1], [])), None, "non-negative integers"),
    ("float dim", _json_request(_x("FP32", [1.0], [1])), None, "non-negative integers"),
    ("shape not list", _json_request(_x("FP32", 3, [1])), None, "needs a shape"),
    ("rank too big", _json_request(_x("FP32", [1] * 9, [1])), None, "at most 8 dimensions"),
    ("too many elements", _json_request(_x("BOOL", [1001, 1000], [])), None, f"at most {MAX_ELEMENTS}"),
    (
        "too many in total",
        _json_request(_x("BOOL", [10**6], []), {**_x("BOOL", [1], [True]), "name": "y"}),
        None,
        "at most",
    ),
    ("huge empty shape", _json_request(_x("FP32", [10**7, 0], [])), None, "too large"),
    ("data not list", _json_request(_x("FP32", [1], 1.0)), None, "not a list"),
    ("no data", _json_request({"name": "x", "datatype": "FP32", "shape": [1]}), None, "no 'data'"),
    ("nested too deep", _json_request(_x("FP32", [2], [[1], [2]])), None, "deeper than its shape"),
    ("mixed nesting", _json_request(_x("FP32", [2, 1], [[1], 2])), None, "mixing lists and values"),
    ("header longer than body", b"{}", 3, "larger than the body"),
    ("negative header length", b"{}", -1, "larger than the body"),
    ("missing binary bytes", _FP32_BINARY[:-1], _FP32_LENGTH, "needs 12 bytes of binary data but only 11 remain"),
    ("leftover bytes", _FP32_BINARY + b"\x00", _FP32_LENGTH, "1 bytes after the JSON header"),
    ("binary without header length", _FP32_BINARY, None, "not valid JSON"),
    ("binary json header only", _FP32_BINARY[:_FP32_LENGTH], None, "needs 12 bytes"),
    ("binary size vs dtype", *_binary_x("FP32", [2], b"\x00" * 5), "5 bytes of binary data; 2 FP32 elements take 8"),
    ("binary size negative", *_binary_x("FP32", [1], b"", size=-4), "not a non-negative integer"),
    ("binary bool byte", *_binary_x("BOOL", [2], b"\x01\x02"), "neither 0 nor 1"),
    ("binary bool size", *_binary_x("BOOL", [2], b"\x01"), "2 BOOL elements take 2"),
    ("binary invalid utf-8", *_binary_x("BYTES", [1], b"\x02\x00\x00\x00\xc3\x28"), "not valid UTF-8"),
    ("binary bytes too few", *_binary_x("BYTES", [2], b"\x01\x00\x00\x00a"), "fewer BYTES elements"),
    ("binary bytes too long", *_binary_x("BYTES", [1], b"\x09\x00\x00\x00a"), "longer than the rest"),
    ("binary bytes leftover", *_binary_x("BYTES", [1], b"\x01\x00\x00\x00ab"), "more binary data"),
    (
        "data and binary",
        _json_request({**_x("FP32", [1], [1]), "parameters": {"binary_data_size": 0}}),
        None,
        "both 'data' and binary data",
    ),
    (
        "shared memory input",
        _json_request({**_x("FP32", [1], [1]), "parameters": {"shared_memory_region": "r"}}),
        None,
        "shared memory",
    ),
    ("outputs not list", _json_request(_x("FP32", [1], [1]), outputs={}), None, "'outputs' must be a list"),
    ("output without name", _json_request(_x("FP32", [1], [1]), outputs=[{}]), None, "outputs\\[0\\] must be"),
    (
        "duplicate outputs",
        _json_request(_x("FP32", [1], [1]), outputs=[{"name": "y"}, {"name": "y"}]),
        None,
        "more than once",
    ),
    (
        "classification output",
        _json_request(_x("FP32", [1], [1]), outputs=[{"name": "y", "parameters": {"classification": 2}}]),
        None,
        "classification",
    ),
    (
        "shared memory output",
        _json_request(_x("FP32", [1], [1]), outputs=[{"name": "y", "parameters": {"shared_memory_region": "r"}}]),
        None,
        "shared memory",
    ),
    (
        "binary_data not bool",
        _json_request(_x("FP32", [1], [1]), outputs=[{"name": "y", "parameters": {"binary_data": 1}}]),
        None,
        "'binary_data' must be true or false",
    ),
    (
        "binary_data_output not bool",
        _json_request(_x("FP32", [1], [1]), parameters={"binary_data_output": "yes"}),
        None,
        "'binary_data_output' must be true or false",
    ),
]


@pytest.mark.parametrize(
    ("body", "header_length", "match"), [c[1:] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES]
)
def test_invalid_requests_raise_oip_error(body: bytes, header_length: int | None, match: str) -> None:
    with pytest.raises(OipError, match=match):
        parse_infer_request(body, header_length)


def test_errors_never_echo_tensor_data() -> None:
    secret = "s3cr3t-value"
    bodies = [
        _json_request(_x("FP32", [1], [secret])),
        _json_request(_x("BYTES", [2], [secret])),
        _json_request(_x("INT64", [1], [[secret]])),
    ]
    for body in bodies:
        with pytest.raises(OipError) as caught:
            parse_infer_request(body, None)
        assert secret not in str(caught.value)


def test_long_names_are_shortened_in_messages() -> None:
    body = _json_request({**_x("FP8", [1], [1]), "name": "n" * 10_000})
    with pytest.raises(OipError) as caught:
        parse_infer_request(body, None)
    assert len(str(caught.value)) < 400


@pytest.mark.parametrize(("value", "expected"), [(None, None), ("0", 0), (" 123 ", 123)])
def test_header_length_parses(value: str | None, expected: int | None) -> None:
    assert parse_header_length(value) == expected


@pytest.mark.parametrize("value", ["", "-1", "1.5", "abc", "١٢", "9" * 13])
def test_bad_header_length_is_refused(value: str) -> None:
    with pytest.raises(OipError, match="non-negative integer"):
        parse_header_length(value)


def test_binary_encoding_refuses_values_that_do_not_fit() -> None:
    with pytest.raises(OipError, match="does not fit INT8"):
        encode_binary("INT8", [300], "Output 'y'")


def test_the_codec_does_not_import_numpy() -> None:
    code = "import sys, shared.oip.codec, shared.oip.rows; sys.exit('numpy' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False, cwd=ROOT).returncode == 0
