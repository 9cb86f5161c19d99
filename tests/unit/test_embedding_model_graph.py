"""The BERT-to-ONNX graph builder and the safetensors reader, on tiny random encoders made here (no download)."""

import json
import struct
from dataclasses import replace

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
import pytest

from tests.support.tiny_bert import CONFIG, CONFIG_JSON, safetensors_bytes
from tools.embedding_model.bert import BertConfig, BertConfigError, random_bert, reference_forward
from tools.embedding_model.graph import INPUTS, OUTPUT, bert_graph
from tools.embedding_model.safetensors import SafetensorsError, read_safetensors

Feeds = dict[str, npt.NDArray[np.int64]]


def run(weights: dict[str, npt.NDArray[np.float32]], config: BertConfig, feeds: Feeds) -> npt.NDArray[np.float32]:
    model = ort.InferenceSession(bert_graph(weights, config).SerializeToString(), providers=["CPUExecutionProvider"])
    (hidden,) = model.run([OUTPUT], feeds)
    return np.asarray(hidden)


def padded_batch(config: BertConfig, seed: int = 1) -> Feeds:
    """Three sequences of 9 positions: full, padded after 5 tokens, padded after 1 token; both token types."""
    rng = np.random.default_rng(seed)
    mask = np.ones((3, 9), dtype=np.int64)
    mask[1, 5:] = 0
    mask[2, 1:] = 0
    return {
        "input_ids": rng.integers(0, config.vocab_size, (3, 9)).astype(np.int64),
        "attention_mask": mask,
        "token_type_ids": rng.integers(0, config.type_vocab_size, (3, 9)).astype(np.int64),
    }


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_graph_computes_what_the_numpy_forward_pass_computes(seed: int) -> None:
    weights = random_bert(CONFIG, seed)
    feeds = padded_batch(CONFIG, seed)

    hidden = run(weights, CONFIG, feeds)

    reference = reference_forward(weights, CONFIG, feeds["input_ids"], feeds["attention_mask"], feeds["token_type_ids"])
    assert hidden.shape == (3, 9, CONFIG.hidden_size)
    real = feeds["attention_mask"].astype(bool)
    assert np.abs(hidden[real] - reference[real]).max() < 1e-5


def test_padded_positions_do_not_change_the_real_tokens() -> None:
    weights = random_bert(CONFIG)
    feeds = padded_batch(CONFIG)
    other = {name: array.copy() for name, array in feeds.items()}
    other["input_ids"][1, 5:] = (other["input_ids"][1, 5:] + 7) % CONFIG.vocab_size  # what sits under the padding

    first, second = run(weights, CONFIG, feeds), run(weights, CONFIG, other)

    assert np.abs(first[1, :5] - second[1, :5]).max() < 1e-6
    assert np.abs(first[1, 5:] - second[1, 5:]).max() > 1e-3  # the padded positions themselves did change


def test_a_deeper_wider_encoder_also_matches() -> None:
    config = replace(CONFIG, hidden_size=24, num_attention_heads=3, num_hidden_layers=3, intermediate_size=40)
    weights = random_bert(config, seed=5)
    feeds = padded_batch(config, seed=5)

    hidden = run(weights, config, feeds)

    reference = reference_forward(weights, config, feeds["input_ids"], feeds["attention_mask"], feeds["token_type_ids"])
    real = feeds["attention_mask"].astype(bool)
    assert np.abs(hidden[real] - reference[real]).max() < 1e-5


def test_the_graph_has_the_inputs_and_output_of_an_optimum_export() -> None:
    model = bert_graph(random_bert(CONFIG), CONFIG)

    assert [i.name for i in model.graph.input] == list(INPUTS) == ["input_ids", "attention_mask", "token_type_ids"]
    assert all(i.type.tensor_type.elem_type == 7 for i in model.graph.input)  # int64
    (output,) = model.graph.output
    dims = [d.dim_param or d.dim_value for d in output.type.tensor_type.shape.dim]
    assert (output.name, dims) == ("last_hidden_state", ["batch", "sequence", CONFIG.hidden_size])


def test_weights_that_do_not_fit_the_config_are_refused() -> None:
    weights = random_bert(CONFIG)
    weights["encoder.layer.1.output.dense.weight"] = weights["encoder.layer.1.output.dense.weight"][:, :-1]

    with pytest.raises(BertConfigError, match=r"encoder\.layer\.1\.output\.dense\.weight"):
        bert_graph(weights, CONFIG)


def test_missing_weights_are_refused() -> None:
    weights = random_bert(CONFIG)
    del weights["embeddings.token_type_embeddings.weight"]

    with pytest.raises(BertConfigError, match="missing"):
        bert_graph(weights, CONFIG)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"model_type": "roberta"}, "model_type"),
        ({"hidden_act": "relu"}, "hidden_act"),
        ({"position_embedding_type": "relative_key"}, "position_embedding_type"),
        ({"num_attention_heads": 5}, "multiple"),
    ],
)
def test_configs_the_builder_does_not_implement_are_refused(change: dict[str, object], message: str) -> None:
    with pytest.raises(BertConfigError, match=message):
        BertConfig.from_json({**CONFIG_JSON, **change})


def test_safetensors_round_trip() -> None:
    tensors: dict[str, npt.NDArray[np.generic]] = {
        "a": np.arange(6, dtype=np.float32).reshape(2, 3),
        "b": np.array([[4, 5]], dtype=np.int64),
    }

    read = read_safetensors(safetensors_bytes(tensors))

    assert set(read) == {"a", "b"}
    assert np.array_equal(read["a"], tensors["a"])
    assert read["a"].dtype == np.float32
    assert np.array_equal(read["b"], tensors["b"])


def _with_header(header: object, body: bytes = b"\0" * 8) -> bytes:
    encoded = json.dumps(header).encode()
    return struct.pack("<Q", len(encoded)) + encoded + body


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x01\x02", "shorter"),
        (struct.pack("<Q", 10**9) + b"{}", "header length"),
        (struct.pack("<Q", 4) + b"nope", "not JSON"),
        (_with_header({"w": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}), "unsupported dtype"),
        (_with_header({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}), "do not hold"),
        (_with_header({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}), "do not hold"),
        (_with_header({"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}), "bad shape"),
        (_with_header({"w": {"dtype": "F32", "shape": [2]}}), "is not"),
    ],
)
def test_malformed_safetensors_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(SafetensorsError, match=message):
        read_safetensors(data)
