"""A BERT encoder (``tools.embedding_model.bert``) as an ONNX graph, built node by node with ``onnx.helper``.

Inputs are what a BERT ``tokenizer.json`` produces, int64 [batch, sequence]: ``input_ids``,
``attention_mask`` and ``token_type_ids``; the output is ``last_hidden_state`` [batch, sequence, hidden],
as in an ``optimum-cli export onnx`` of the same model, so pooling and normalisation stay with the runtime.
Linear weights are stored transposed ([in, out]) as ``MatMul`` initialisers, which is what
``tools.embedding_model.quantize`` stores as int8, one scale per output column.
"""

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper

from tools.embedding_model.bert import BertConfig, Weights, check_weights

OPSET = 17  # LayerNormalization is a standard operator from 17 on
IR_VERSION = 8  # the IR version of opset 17
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT = "last_hidden_state"
PRODUCER = "infergate tools.embedding_model"


class _Graph:
    """Nodes and initialisers collected in order; every node gets a unique output name."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0

    def constant(self, name: str, value: npt.NDArray[Any]) -> str:
        self.initializers.append(numpy_helper.from_array(value, name))
        return name

    def op(self, op_type: str, *inputs: str, output: str | None = None, **attributes: Any) -> str:
        self._count += 1
        out = output or f"{op_type.lower()}_{self._count}"
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], name=f"{op_type}_{self._count}", **attributes))
        return out


def bert_graph(weights: Weights, config: BertConfig, name: str = "bert") -> onnx.ModelProto:
    """The encoder of ``config`` with ``weights`` (checked against it first) as a float32 ONNX model."""
    check_weights(weights, config)
    g = _Graph()

    def f32(key: str, transpose: bool = False) -> str:
        value = np.asarray(weights[key], dtype=np.float32)
        return g.constant(f"{key}.T" if transpose else key, np.ascontiguousarray(value.T if transpose else value))

    def linear(x: str, prefix: str) -> str:
        return g.op("Add", g.op("MatMul", x, f32(f"{prefix}.weight", transpose=True)), f32(f"{prefix}.bias"))

    def layer_norm(x: str, prefix: str, output: str | None = None) -> str:
        return g.op(
            "LayerNormalization",
            x,
            f32(f"{prefix}.weight"),
            f32(f"{prefix}.bias"),
            output=output,
            axis=-1,
            epsilon=config.layer_norm_eps,
        )

    one = g.constant("one", np.array(1.0, dtype=np.float32))
    # Embeddings: word + absolute position (0 .. sequence-1) + token type, then LayerNorm.
    length = g.op("Gather", g.op("Shape", "input_ids"), g.constant("axis_1", np.array(1, dtype=np.int64)), axis=0)
    positions = g.op(
        "Range",
        g.constant("zero_i64", np.array(0, dtype=np.int64)),
        length,
        g.constant("one_i64", np.array(1, dtype=np.int64)),
    )
    x = g.op(
        "Add",
        g.op(
            "Add",
            g.op("Gather", f32("embeddings.word_embeddings.weight"), "input_ids", axis=0),
            g.op("Gather", f32("embeddings.position_embeddings.weight"), positions, axis=0),
        ),
        g.op("Gather", f32("embeddings.token_type_embeddings.weight"), "token_type_ids", axis=0),
    )
    x = layer_norm(x, "embeddings.LayerNorm")

    # Padded keys get the most negative float added to their scores: softmax gives them weight 0.
    keep = g.op("Cast", "attention_mask", to=TensorProto.FLOAT)
    bias = g.op(
        "Mul",
        g.op("Sub", one, keep),
        g.constant("masked_score", np.array(np.finfo(np.float32).min, dtype=np.float32)),
    )
    bias = g.op("Unsqueeze", bias, g.constant("axes_1_2", np.array([1, 2], dtype=np.int64)))  # [b, 1, 1, key]

    heads = g.constant("heads_shape", np.array([0, 0, config.num_attention_heads, config.head_size], dtype=np.int64))
    merged = g.constant("hidden_shape", np.array([0, 0, config.hidden_size], dtype=np.int64))
    scale = g.constant("score_scale", np.array(1.0 / math.sqrt(config.head_size), dtype=np.float32))
    sqrt2 = g.constant("sqrt2", np.array(math.sqrt(2.0), dtype=np.float32))
    half = g.constant("half", np.array(0.5, dtype=np.float32))
    for n in range(config.num_hidden_layers):
        layer = f"encoder.layer.{n}"

        def split(t: str) -> str:
            return g.op("Reshape", t, heads)  # [b, s, heads, head_size]

        q = g.op("Transpose", split(linear(x, f"{layer}.attention.self.query")), perm=[0, 2, 1, 3])
        k = g.op("Transpose", split(linear(x, f"{layer}.attention.self.key")), perm=[0, 2, 3, 1])
        v = g.op("Transpose", split(linear(x, f"{layer}.attention.self.value")), perm=[0, 2, 1, 3])
        scores = g.op("Add", g.op("Mul", g.op("MatMul", q, k), scale), bias)  # [b, heads, query, key]
        context = g.op("MatMul", g.op("Softmax", scores, axis=-1), v)  # [b, heads, s, head_size]
        context = g.op("Reshape", g.op("Transpose", context, perm=[0, 2, 1, 3]), merged)
        attended = g.op("Add", linear(context, f"{layer}.attention.output.dense"), x)
        x = layer_norm(attended, f"{layer}.attention.output.LayerNorm")
        hidden = linear(x, f"{layer}.intermediate.dense")
        hidden = g.op("Mul", g.op("Mul", hidden, g.op("Add", g.op("Erf", g.op("Div", hidden, sqrt2)), one)), half)
        last = n == config.num_hidden_layers - 1
        out = g.op("Add", linear(hidden, f"{layer}.output.dense"), x)
        x = layer_norm(out, f"{layer}.output.LayerNorm", output=OUTPUT if last else None)

    if config.num_hidden_layers == 0:
        x = g.op("Identity", x, output=OUTPUT)
    dims = ["batch", "sequence"]
    graph = helper.make_graph(
        g.nodes,
        name,
        [helper.make_tensor_value_info(i, TensorProto.INT64, dims) for i in INPUTS],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, [*dims, config.hidden_size])],
        initializer=g.initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name=PRODUCER)
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    return model
