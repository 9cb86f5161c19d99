"""Weight-only int8 quantisation of a float32 graph: small on disk, float32 arithmetic when it runs.

Each 2-D float initializer that is a ``MatMul``'s weight ([in, out]) or a ``Gather``'s table ([rows, dim]),
used by that node alone, is stored as int8 with one symmetric scale per output channel (per column of a
weight, per row of a table): ``q = round(w / s)``, ``s = max|w| / 127``. In front of its node,
``Mul(Cast(q, float), s)`` gives the float weight back. Both inputs are constants, so onnxruntime folds them
into a float32 initializer when it opens the session, and the model then runs as the float32 graph with
these weights: no activation is ever quantised, so a text's numbers do not depend on the batch it runs in.
(``DequantizeLinear`` would say the same thing, but onnxruntime fuses ``DequantizeLinear`` + ``MatMul`` into
``MatMulNBits``, which quantises activations by default; ``quantize_dynamic`` scales activations by the range
of the whole batch.)
"""

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper

QMAX = 127
# (op_type, input index) of the weights quantised, and the axis that has one scale per entry.
CHANNEL_AXIS = {("MatMul", 1): 1, ("Gather", 0): 0}
QUANTIZED_SUFFIX = ".int8"
SCALE_SUFFIX = ".scale"


def quantize_channels(
    weight: npt.NDArray[np.float32], axis: int
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.float32]]:
    """int8 values and the float32 scales (shaped to broadcast against them) of ``weight``, per ``axis`` entry."""
    reduced = 1 - axis
    scale = np.abs(weight).max(axis=reduced, keepdims=True) / QMAX
    scale = np.where(scale > 0, scale, 1.0).astype(np.float32)
    quantized = np.clip(np.rint(weight / scale), -QMAX, QMAX).astype(np.int8)
    return quantized, scale


def int8_weights(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of ``model`` with its MatMul weights and Gather tables stored as int8 (see the module)."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    graph = out.graph
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    uses: dict[str, list[tuple[str, int]]] = {}
    for node in graph.node:
        for index, name in enumerate(node.input):
            if name in initializers:
                uses.setdefault(name, []).append((node.op_type, index))
    restore: list[onnx.NodeProto] = []
    for name, used in uses.items():
        tensor = initializers[name]
        if len(used) != 1 or used[0] not in CHANNEL_AXIS or tensor.data_type != TensorProto.FLOAT:
            continue
        if len(tensor.dims) != 2:
            continue
        quantized, scale = quantize_channels(numpy_helper.to_array(tensor), CHANNEL_AXIS[used[0]])
        graph.initializer.remove(tensor)
        graph.initializer.extend(
            [
                numpy_helper.from_array(quantized, name + QUANTIZED_SUFFIX),
                numpy_helper.from_array(scale, name + SCALE_SUFFIX),
            ]
        )
        widened = f"{name}.float"
        restore.append(
            helper.make_node("Cast", [name + QUANTIZED_SUFFIX], [widened], name=f"{name}.cast", to=TensorProto.FLOAT)
        )
        restore.append(helper.make_node("Mul", [widened, name + SCALE_SUFFIX], [name], name=f"{name}.rescale"))
    nodes = [*restore, *graph.node]
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(out, full_check=True)
    return out
