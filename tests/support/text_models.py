"""A tiny text model built by the tests (no download): a WordPiece tokenizer made in code, an ONNX graph made
with ``onnx.helper``, packed as a Hugging Face-style export in a ``.tar.gz`` or ``.zip``.

The graph is an embedding lookup: ``last_hidden_state[b, i] = (word[input_ids[b, i]] + position[i]
(+ token_type[token_type_ids[b, i]])) * attention_mask[b, i]``, [batch, sequence, DIM]; it only has
``MAX_POSITIONS`` position rows, so a longer input fails inside the graph, as a real transformer's does.
The classifier reads the mean of those vectors through a linear layer to ``logits`` [batch, labels].
``expected_embedding`` computes what the service should answer with numpy, from the same weights.
"""

import io
import json
import tarfile
import zipfile
from typing import Any

import httpx
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

from tests.support.onnx_models import IR_VERSION, OPSET

DIM = 8
MAX_POSITIONS = 32
LABELS = ("negative", "neutral", "positive")
# fmt: off
VOCAB = (
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "the", "a", "cat", "cats", "dog", "sat", "ran", "on", "mat", "hello",
    "world", "good", "bad", "news", "##s", "##ing", "über", "café", "日", "本", "語", ",", ".", "!",
)
# fmt: on
_RNG = np.random.default_rng(16)
WORDS = _RNG.normal(size=(len(VOCAB), DIM)).astype(np.float32)
POSITIONS = (_RNG.normal(size=(MAX_POSITIONS, DIM)) * 0.1).astype(np.float32)
TYPES = (_RNG.normal(size=(2, DIM)) * 0.1).astype(np.float32)
CLASSIFIER = _RNG.normal(size=(DIM, len(LABELS))).astype(np.float32)
CLASSIFIER_BIAS = np.asarray([0.1, 0.0, -0.1], dtype=np.float32)


def tokenizer() -> Tokenizer:
    """A BERT-style WordPiece tokenizer: lower-cased, CJK characters split, ``[CLS] text [SEP]``."""
    built = Tokenizer(models.WordPiece({word: i for i, word in enumerate(VOCAB)}, unk_token="[UNK]"))
    built.normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=False, handle_chinese_chars=True)
    built.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    built.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    return built


def tokenizer_json() -> bytes:
    return tokenizer().to_str().encode()


def graph(task: str = "feature-extraction", token_types: bool = False, output: str | None = None) -> bytes:
    """The embedding-lookup graph (feature extraction) or the classifier on top of it."""
    nodes = [
        helper.make_node("Gather", ["words", "input_ids"], ["word"]),
        helper.make_node("Shape", ["input_ids"], ["shape"]),
        helper.make_node("Gather", ["shape", "one"], ["length"], axis=0),
        helper.make_node("Range", ["zero", "length", "one"], ["index"]),
        helper.make_node("Gather", ["positions", "index"], ["position"]),
        helper.make_node("Add", ["word", "position"], ["summed"]),
        helper.make_node("Unsqueeze", ["attention_mask", "last_axis"], ["mask3"]),
        helper.make_node("Cast", ["mask3"], ["maskf"], to=TensorProto.FLOAT),
    ]
    inputs = [
        helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"]),
        helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "sequence"]),
    ]
    initializers = [
        numpy_helper.from_array(WORDS, "words"),
        numpy_helper.from_array(POSITIONS, "positions"),
        numpy_helper.from_array(np.array(0, dtype=np.int64), "zero"),
        numpy_helper.from_array(np.array(1, dtype=np.int64), "one"),
        numpy_helper.from_array(np.array([2], dtype=np.int64), "last_axis"),
    ]
    hidden = "summed"
    if token_types:
        inputs.append(helper.make_tensor_value_info("token_type_ids", TensorProto.INT64, ["batch", "sequence"]))
        initializers.append(numpy_helper.from_array(TYPES, "types"))
        nodes += [
            helper.make_node("Gather", ["types", "token_type_ids"], ["type"]),
            helper.make_node("Add", ["summed", "type"], ["typed"]),
        ]
        hidden = "typed"
    name = output or ("last_hidden_state" if task == "feature-extraction" else "logits")
    if task == "feature-extraction":
        nodes.append(helper.make_node("Mul", [hidden, "maskf"], [name]))
        outputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", "sequence", DIM])]
    else:
        nodes += [
            helper.make_node("Mul", [hidden, "maskf"], ["masked"]),
            helper.make_node("ReduceSum", ["masked", "one_axis"], ["total"], keepdims=0),
            helper.make_node("ReduceSum", ["maskf", "one_axis"], ["count"], keepdims=0),
            helper.make_node("Div", ["total", "count"], ["mean"]),
            helper.make_node("MatMul", ["mean", "classifier"], ["scaled"]),
            helper.make_node("Add", ["scaled", "classifier_bias"], [name]),
        ]
        initializers += [
            numpy_helper.from_array(CLASSIFIER, "classifier"),
            numpy_helper.from_array(CLASSIFIER_BIAS, "classifier_bias"),
            numpy_helper.from_array(np.array([1], dtype=np.int64), "one_axis"),
        ]
        outputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", len(LABELS)])]
    model = helper.make_model(
        helper.make_graph(nodes, "tiny_text", inputs, outputs, initializer=initializers),
        opset_imports=[helper.make_opsetid("", OPSET)],
        ir_version=IR_VERSION,
    )
    onnx.checker.check_model(model)
    serialized: bytes = model.SerializeToString()
    return serialized


def config(task: str = "feature-extraction", labels: tuple[str, ...] = LABELS) -> dict[str, Any]:
    found: dict[str, Any] = {"model_type": "bert", "max_position_embeddings": MAX_POSITIONS, "hidden_size": DIM}
    if task == "text-classification":
        found["id2label"] = {str(i): label for i, label in enumerate(labels)}
        found["label2id"] = {label: i for i, label in enumerate(labels)}
    return found


def files(task: str = "feature-extraction", token_types: bool = False) -> dict[str, bytes]:
    """The members of an export: ``model.onnx``, ``tokenizer.json``, ``config.json``, ``tokenizer_config.json``."""
    return {
        "model.onnx": graph(task, token_types),
        "tokenizer.json": tokenizer_json(),
        "config.json": json.dumps(config(task)).encode(),
        "tokenizer_config.json": json.dumps({"model_max_length": MAX_POSITIONS, "do_lower_case": True}).encode(),
    }


def tar_gz(members: dict[str, bytes], prefix: str = "") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in members.items():
            info = tarfile.TarInfo(prefix + name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def tar_gz_entries(entries: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    """A tar.gz of hand-made entries (links, devices, odd names): what a hostile archive holds."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for info, content in entries:
            archive.addfile(info, None if content is None else io.BytesIO(content))
    return buffer.getvalue()


def zip_archive(members: dict[str, bytes] | list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    items = list(members.items()) if isinstance(members, dict) else members
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in items:
            archive.writestr(name, content)
    return buffer.getvalue()


def _hidden(text: str, truncate: bool, token_types: bool) -> "np.ndarray[Any, Any]":
    built = tokenizer()
    if truncate:
        built.enable_truncation(MAX_POSITIONS)
    ids = built.encode(text).ids
    hidden = WORDS[ids].astype(np.float64) + POSITIONS[: len(ids)]
    return hidden + TYPES[0] if token_types else hidden


def expected_embedding(
    text: str, pooling: str = "mean", normalize: bool = False, truncate: bool = False, token_types: bool = False
) -> list[float]:
    """What the tiny model's embedding of ``text`` should be, from the same weights (numpy)."""
    hidden = _hidden(text, truncate, token_types)
    vector = hidden[0] if pooling == "cls" else hidden.mean(axis=0)
    if normalize:
        vector = vector / np.linalg.norm(vector)
    return [float(v) for v in vector]


def expected_scores(text: str, activation: str = "softmax", token_types: bool = False) -> dict[str, float]:
    """The tiny classifier's score per label for ``text``."""
    logits = _hidden(text, False, token_types).mean(axis=0) @ CLASSIFIER + CLASSIFIER_BIAS
    if activation == "softmax":
        scores = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    else:
        scores = 1 / (1 + np.exp(-logits))
    return {label: float(score) for label, score in zip(LABELS, scores, strict=True)}


def token_count(text: str) -> int:
    return len(tokenizer().encode(text).ids)


def register_over_http(admin: httpx.Client, name: str) -> str:
    """Register this module's feature-extraction model as ``name`` through a running stack's API (upload,
    presigned PUT, version); the name back."""
    archive = tar_gz(files())
    upload = admin.post(
        "/v1/uploads", json={"purpose": "model_artifact", "content_type": "application/gzip", "size": len(archive)}
    )
    assert upload.status_code == 201, upload.text
    put = httpx.put(upload.json()["url"], content=archive, headers=upload.json()["headers"], timeout=30)
    assert put.status_code == 200, put.text
    body = {"runtime": "text", "upload_id": upload.json()["id"], "text": {"task": "feature-extraction"}}
    version = admin.post(f"/v1/models/{name}/versions", json=body)
    assert version.status_code == 201, version.text
    return name
