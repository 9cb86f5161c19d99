"""A BERT encoder as Hugging Face's ``BertModel`` saves it: its configuration, its weights' names and shapes,
and a plain numpy forward pass of it.

The forward pass is the reference the ONNX graph (``tools.embedding_model.graph``) is checked against, so it
is written independently of the graph: float64 throughout, one head at a time, padded keys excluded from
the softmax by ``-inf`` rather than by an additive bias, GELU through ``math.erf``.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

Weights = Mapping[str, npt.NDArray[np.generic]]
Int64Array = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

# Tensors a BertModel checkpoint may carry that the encoder's last_hidden_state does not use.
UNUSED = frozenset({"embeddings.position_ids", "pooler.dense.weight", "pooler.dense.bias"})


class BertConfigError(ValueError):
    """config.json describes something other than an absolute-position, GELU BERT encoder."""


@dataclass(frozen=True)
class BertConfig:
    vocab_size: int
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    max_position_embeddings: int
    type_vocab_size: int
    layer_norm_eps: float

    @property
    def head_size(self) -> int:
        return self.hidden_size // self.num_attention_heads

    @classmethod
    def from_json(cls, config: Mapping[str, Any]) -> "BertConfig":
        """The fields of a Hugging Face ``config.json``; refuses what the graph builder does not implement."""
        if config.get("model_type") != "bert":
            raise BertConfigError(f"model_type {config.get('model_type')!r} is not 'bert'")
        if config.get("hidden_act", "gelu") != "gelu":
            raise BertConfigError(f"hidden_act {config.get('hidden_act')!r} is not 'gelu'")
        if config.get("position_embedding_type", "absolute") != "absolute":
            raise BertConfigError(f"position_embedding_type {config.get('position_embedding_type')!r}")
        try:
            built = cls(
                vocab_size=int(config["vocab_size"]),
                hidden_size=int(config["hidden_size"]),
                num_hidden_layers=int(config["num_hidden_layers"]),
                num_attention_heads=int(config["num_attention_heads"]),
                intermediate_size=int(config["intermediate_size"]),
                max_position_embeddings=int(config["max_position_embeddings"]),
                type_vocab_size=int(config["type_vocab_size"]),
                layer_norm_eps=float(config["layer_norm_eps"]),
            )
        except KeyError as exc:
            raise BertConfigError(f"config.json has no {exc.args[0]!r}") from exc
        if built.hidden_size % built.num_attention_heads:
            raise BertConfigError(f"hidden_size {built.hidden_size} is not a multiple of the heads")
        return built


def expected_shapes(config: BertConfig) -> dict[str, tuple[int, ...]]:
    """Every weight the encoder reads, by its ``BertModel`` name (torch ``Linear`` weights are [out, in])."""
    h, i = config.hidden_size, config.intermediate_size
    shapes: dict[str, tuple[int, ...]] = {
        "embeddings.word_embeddings.weight": (config.vocab_size, h),
        "embeddings.position_embeddings.weight": (config.max_position_embeddings, h),
        "embeddings.token_type_embeddings.weight": (config.type_vocab_size, h),
        "embeddings.LayerNorm.weight": (h,),
        "embeddings.LayerNorm.bias": (h,),
    }
    for n in range(config.num_hidden_layers):
        layer = f"encoder.layer.{n}"
        for linear, (out, inp) in {
            "attention.self.query": (h, h),
            "attention.self.key": (h, h),
            "attention.self.value": (h, h),
            "attention.output.dense": (h, h),
            "intermediate.dense": (i, h),
            "output.dense": (h, i),
        }.items():
            shapes[f"{layer}.{linear}.weight"] = (out, inp)
            shapes[f"{layer}.{linear}.bias"] = (out,)
        for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
            shapes[f"{layer}.{norm}.weight"] = (h,)
            shapes[f"{layer}.{norm}.bias"] = (h,)
    return shapes


def check_weights(weights: Weights, config: BertConfig) -> None:
    """Every expected weight present, floating point and of its shape; nothing unknown beside them."""
    shapes = expected_shapes(config)
    missing = sorted(set(shapes) - set(weights))
    unknown = sorted(set(weights) - set(shapes) - UNUSED)
    if missing or unknown:
        raise BertConfigError(f"weights do not match config.json: missing {missing[:3]}, unknown {unknown[:3]}")
    for name, shape in shapes.items():
        if weights[name].shape != shape or weights[name].dtype.kind != "f":
            raise BertConfigError(f"{name}: {weights[name].dtype}{list(weights[name].shape)}, expected float{shape}")


def _w(weights: Weights, name: str) -> FloatArray:
    return np.asarray(weights[name], dtype=np.float64)


def _layer_norm(x: FloatArray, weights: Weights, prefix: str, eps: float) -> FloatArray:
    mean = x.mean(axis=-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    normed: FloatArray = (x - mean) / np.sqrt(variance + eps)
    return normed * _w(weights, f"{prefix}.weight") + _w(weights, f"{prefix}.bias")


def _linear(x: FloatArray, weights: Weights, prefix: str) -> FloatArray:
    out: FloatArray = x @ _w(weights, f"{prefix}.weight").T + _w(weights, f"{prefix}.bias")
    return out


_erf = np.vectorize(math.erf, otypes=[np.float64])


def _gelu(x: FloatArray) -> FloatArray:
    out: FloatArray = 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))
    return out


def reference_forward(
    weights: Weights,
    config: BertConfig,
    input_ids: Int64Array,
    attention_mask: Int64Array,
    token_type_ids: Int64Array,
) -> FloatArray:
    """``last_hidden_state`` [batch, sequence, hidden] of the encoder, in float64."""
    batch, length = input_ids.shape
    positions = np.arange(length)
    x = (
        _w(weights, "embeddings.word_embeddings.weight")[input_ids]
        + _w(weights, "embeddings.position_embeddings.weight")[positions][None, :, :]
        + _w(weights, "embeddings.token_type_embeddings.weight")[token_type_ids]
    )
    x = _layer_norm(x, weights, "embeddings.LayerNorm", config.layer_norm_eps)
    keep = attention_mask.astype(bool)  # [batch, key]
    d = config.head_size
    for n in range(config.num_hidden_layers):
        layer = f"encoder.layer.{n}"
        q = _linear(x, weights, f"{layer}.attention.self.query")
        k = _linear(x, weights, f"{layer}.attention.self.key")
        v = _linear(x, weights, f"{layer}.attention.self.value")
        context = np.empty_like(x)
        for b in range(batch):
            for head in range(config.num_attention_heads):
                cols = slice(head * d, (head + 1) * d)
                scores = q[b, :, cols] @ k[b, :, cols].T / math.sqrt(d)  # [query, key]
                scores = np.where(keep[b][None, :], scores, -np.inf)
                scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
                context[b, :, cols] = (scores / scores.sum(axis=-1, keepdims=True)) @ v[b, :, cols]
        attended = _linear(context, weights, f"{layer}.attention.output.dense") + x
        x = _layer_norm(attended, weights, f"{layer}.attention.output.LayerNorm", config.layer_norm_eps)
        hidden = _gelu(_linear(x, weights, f"{layer}.intermediate.dense"))
        x = _layer_norm(
            _linear(hidden, weights, f"{layer}.output.dense") + x,
            weights,
            f"{layer}.output.LayerNorm",
            config.layer_norm_eps,
        )
    return x


def random_bert(config: BertConfig, seed: int = 0) -> dict[str, npt.NDArray[np.float32]]:
    """Random float32 weights of ``config``'s shapes (tests build tiny encoders with it; no download)."""
    rng = np.random.default_rng(seed)
    weights: dict[str, npt.NDArray[np.float32]] = {}
    for name, shape in expected_shapes(config).items():
        if name.endswith("LayerNorm.weight"):
            weights[name] = (1.0 + 0.1 * rng.standard_normal(shape)).astype(np.float32)
        else:
            weights[name] = (0.2 * rng.standard_normal(shape)).astype(np.float32)
    return weights
