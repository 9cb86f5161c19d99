"""Sentence embeddings from an ONNX encoder and its tokenizer, as a text runtime computes them, for the build's
checks and the built layer's tests: tokenise (no truncation beyond ``max_tokens``, padded to the longest
text), run the graph, pool over the attention mask (mean) or take the first token (cls), L2-normalise.
"""

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
from tokenizers import Tokenizer

FloatArray = npt.NDArray[np.float64]
Feeds = dict[str, npt.NDArray[np.int64]]


def encode(tokenizer: Tokenizer, texts: Sequence[str], max_tokens: int) -> Feeds:
    """The three int64 inputs of a BERT graph for ``texts``, padded to the longest, cut at ``max_tokens``."""
    own = Tokenizer.from_str(tokenizer.to_str())  # padding and truncation are settings of the object
    own.enable_truncation(max_tokens)
    own.enable_padding(pad_id=own.token_to_id("[PAD]") or 0, pad_token="[PAD]")  # noqa: S106 - a token, not a secret
    encodings = own.encode_batch(list(texts))
    return {
        "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
        "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
        "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
    }


def pool(
    hidden: npt.NDArray[np.floating], attention_mask: npt.NDArray[np.int64], pooling: str, normalize: bool
) -> FloatArray:
    """[batch, hidden] sentence vectors from ``last_hidden_state`` [batch, sequence, hidden]."""
    states = np.asarray(hidden, dtype=np.float64)
    if pooling == "mean":
        weights = attention_mask[..., None].astype(np.float64)
        vectors: FloatArray = (states * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
    elif pooling == "cls":
        vectors = states[:, 0, :]
    else:
        raise ValueError(f"unknown pooling {pooling!r}")
    if normalize:
        vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return vectors


def session(model: bytes) -> ort.InferenceSession:
    return ort.InferenceSession(model, providers=["CPUExecutionProvider"])


def embed(
    model: ort.InferenceSession,
    tokenizer: Tokenizer,
    texts: Sequence[str],
    max_tokens: int,
    pooling: str,
    normalize: bool,
) -> FloatArray:
    feeds = encode(tokenizer, texts, max_tokens)
    (hidden,) = model.run(["last_hidden_state"], feeds)
    return pool(hidden, feeds["attention_mask"], pooling, normalize)
