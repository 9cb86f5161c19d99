"""Weight-only int8 storage of the embedding graph (``tools.embedding_model.quantize``), on tiny random encoders
made here: the weights come back within half a step, and the graph still computes in float32, so a sequence's
hidden states do not depend on the batch it runs in."""

import numpy as np
import numpy.typing as npt
import onnx
import onnxruntime as ort

from tests.support.tiny_bert import CONFIG
from tools.embedding_model.bert import random_bert
from tools.embedding_model.graph import OUTPUT, bert_graph
from tools.embedding_model.quantize import int8_weights, quantize_channels

Feeds = dict[str, npt.NDArray[np.int64]]


def hidden(model: onnx.ModelProto, feeds: Feeds) -> npt.NDArray[np.float32]:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    (states,) = session.run([OUTPUT], feeds)
    return np.asarray(states)


def batch(lengths: list[int], seed: int = 3) -> Feeds:
    """Random sequences of these lengths, padded to the longest; inputs differ in scale from row to row."""
    rng = np.random.default_rng(seed)
    width = max(lengths)
    mask = np.array([[1] * n + [0] * (width - n) for n in lengths], dtype=np.int64)
    return {
        "input_ids": rng.integers(0, CONFIG.vocab_size, (len(lengths), width)).astype(np.int64) * mask,
        "attention_mask": mask,
        "token_type_ids": np.zeros((len(lengths), width), dtype=np.int64),
    }


def test_each_channel_comes_back_within_half_a_step_of_its_own_scale() -> None:
    rng = np.random.default_rng(0)
    weight = (rng.standard_normal((16, 6)) * np.array([0.01, 0.1, 1.0, 10.0, 100.0, 0.0])).astype(np.float32)

    quantized, scale = quantize_channels(weight, axis=1)

    assert quantized.dtype == np.int8
    assert scale.shape == (1, 6)
    assert np.abs(quantized).max() <= 127
    assert np.all(np.abs(quantized.astype(np.float32) * scale - weight) <= scale / 2 + 1e-9)
    assert np.all(quantized[:, 5] == 0)  # an all-zero channel stays zero (scale 1, not 0/0)


def test_the_int8_weight_graph_gives_each_sequence_the_same_numbers_alone_and_in_a_batch() -> None:
    weights = random_bert(CONFIG, seed=4)
    shipped = int8_weights(bert_graph(weights, CONFIG))
    lengths = [3, 17, 9, 1, 20, 12, 5, 14]
    together = batch(lengths)

    in_batch = hidden(shipped, together)
    for row, length in enumerate(lengths):
        alone = hidden(shipped, {name: value[row : row + 1, :length] for name, value in together.items()})
        assert np.abs(alone[0] - in_batch[row, :length]).max() <= 1e-6, length
    reference = hidden(bert_graph(weights, CONFIG), together)
    real = together["attention_mask"].astype(bool)
    assert np.abs(in_batch[real] - reference[real]).max() < 0.1  # int8 weights: close to float32, not equal
    assert not np.array_equal(in_batch[real], reference[real])  # the weights really are the int8 ones
