"""Small ONNX models built inside tests (onnx.helper), and what they should compute (numpy)."""

from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# onnxruntime 1.31 loads IR versions up to 13; onnx 1.23's helper would write 14.
IR_VERSION = 8
OPSET = 17


def linear_model(weights: list[list[float]], bias: list[float]) -> bytes:
    """``y = x @ weights + bias`` with input ``x`` FP32 [batch, n] and output ``y`` FP32 [batch, m]."""
    w = np.asarray(weights, dtype=np.float32)
    b = np.asarray(bias, dtype=np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["xw"]), helper.make_node("Add", ["xw", "B"], ["y"])],
        "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", w.shape[0]])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", w.shape[1]])],
        initializer=[numpy_helper.from_array(w, "W"), numpy_helper.from_array(b, "B")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION)
    onnx.checker.check_model(model)
    serialized: bytes = model.SerializeToString()
    return serialized


def linear_expected(weights: list[list[float]], bias: list[float], x: list[float]) -> list[float]:
    result = np.asarray([x], dtype=np.float32) @ np.asarray(weights, dtype=np.float32) + np.asarray(
        bias, dtype=np.float32
    )
    return [float(v) for v in result[0]]


def linear_schemas(inputs: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Input and output JSON Schemas a user would register with the linear model."""
    vector: dict[str, Any] = {"type": "array", "items": {"type": "number"}, "minItems": inputs, "maxItems": inputs}
    input_schema = {"type": "object", "properties": {"x": vector}, "required": ["x"], "additionalProperties": False}
    output_schema = {"type": "object", "properties": {"y": {"type": "array", "items": {"type": "number"}}}}
    return input_schema, output_schema


def _loop_body() -> onnx.GraphProto:
    """One trip: keep going, and add 1 to the carried value."""
    return helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]), helper.make_node("Add", ["v_in", "one"], ["v_out"])],
        "body",
        [
            helper.make_tensor_value_info("trip", TensorProto.INT64, []),
            helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
            helper.make_tensor_value_info("v_in", TensorProto.FLOAT, None),
        ],
        [
            helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
            helper.make_tensor_value_info("v_out", TensorProto.FLOAT, None),
        ],
        initializer=[numpy_helper.from_array(np.array(1.0, dtype=np.float32), "one")],
    )


def _loop_graph(nodes: list[onnx.NodeProto], initializers: list[onnx.TensorProto]) -> bytes:
    graph = helper.make_graph(
        [*nodes, helper.make_node("Loop", ["trips", "keep_going", "x"], ["y"], body=_loop_body())],
        "loop",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 1])],
        initializer=[numpy_helper.from_array(np.array(True), "keep_going"), *initializers],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION)
    onnx.checker.check_model(model)
    serialized: bytes = model.SerializeToString()
    return serialized


def loop_model(trips: int) -> bytes:
    """A few hundred bytes that spin: ``y = x + trips``, one ``Add`` per trip of a ``Loop`` (input ``x`` [batch, 1])."""
    return _loop_graph([], [numpy_helper.from_array(np.array(trips, dtype=np.int64), "trips")])


def input_loop_model() -> bytes:
    """``y = x + max(x)`` in ``max(x)`` trips: quick on small inputs, as slow as the caller asks on large ones."""
    nodes = [
        helper.make_node("ReduceMax", ["x"], ["most"], keepdims=0),
        helper.make_node("Cast", ["most"], ["trips"], to=TensorProto.INT64),
    ]
    return _loop_graph(nodes, [])


def loop_schemas() -> tuple[dict[str, Any], dict[str, Any]]:
    """Input and output JSON Schemas of the loop models."""
    return linear_schemas(1)[0], {"type": "object"}


def external_data_model(location: str = "model.onnx") -> bytes:
    """A linear model whose weights say they live in an external file ``location`` (next to the model)."""
    weights = numpy_helper.from_array(np.ones((1, 1), dtype=np.float32), "W")
    weights.ClearField("raw_data")
    weights.data_location = TensorProto.EXTERNAL
    for key, value in {"location": location, "offset": "0", "length": "4"}.items():
        entry = weights.external_data.add()
        entry.key, entry.value = key, value
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["y"])],
        "external",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 1])],
        initializer=[weights],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=IR_VERSION)
    serialized: bytes = model.SerializeToString()
    return serialized
