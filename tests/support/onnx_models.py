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
