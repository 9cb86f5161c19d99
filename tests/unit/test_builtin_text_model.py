"""Serving a built-in text model from its shipped folder, on the tiny model the tests build: the manifest
must state the registry's facts and the files' digests, and the tokenizer's own padding and truncation never
count."""

import hashlib
import json
from pathlib import Path

import pytest
from tokenizers import Tokenizer

from shared.registry.builtins import EMBEDDING_MODEL, BuiltinTextModel
from shared.registry.text import TextSpec
from shared.runtimes.artifacts import ArtifactFiles, ArtifactIntegrityError
from shared.runtimes.base import ModelFailure
from shared.runtimes.builtin_text import BuiltinModelFolderError, load_builtin_text
from shared.runtimes.loader import RuntimeLoader, RuntimeUnavailableError
from tests.support.text_models import MAX_POSITIONS, expected_embedding, graph, token_count, tokenizer

TINY = BuiltinTextModel(
    name="tiny",
    description="",
    source="tests/tiny",
    licence="Apache-2.0",
    spec=TextSpec("feature-extraction", 8, pooling="mean", normalize=True, dimension=8),
)
SENTENCE = "The cat sat on the mat."


def _folder(tmp_path: Path, tokenizer_json: bytes | None = None, facts: dict[str, object] | None = None) -> Path:
    folder = tmp_path / "tiny"
    folder.mkdir()
    files = {"model.onnx": graph(), "tokenizer.json": tokenizer_json or tokenizer().to_str().encode()}
    for name, data in files.items():
        (folder / name).write_bytes(data)
    manifest = {
        "name": "tiny",
        "task": "feature-extraction",
        "pooling": "mean",
        "normalize": True,
        "dimension": 8,
        "max_tokens": 8,
        "weights": "float32",
        "arithmetic": "float32",
        "source": {"model": "tests/tiny", "licence": "Apache-2.0", "package": "tiny"},
        "files": {
            name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)} for name, data in files.items()
        },
        **(facts or {}),
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def test_a_checked_folder_is_served_with_the_registry_s_spec(tmp_path: Path) -> None:
    runtime = load_builtin_text(_folder(tmp_path), TINY)

    [result] = runtime.predict([{"text": "The cat sat."}])

    assert isinstance(result, dict)
    assert result["embedding"] == pytest.approx(expected_embedding("The cat sat.", "mean", normalize=True), abs=1e-6)


def test_the_tokenizer_s_own_padding_and_truncation_are_ignored(tmp_path: Path) -> None:
    """The registry's max_tokens is the limit: a file that pads to 32 or cuts at 4 changes nothing."""
    shipped = tokenizer()
    shipped.enable_padding(length=MAX_POSITIONS)
    shipped.enable_truncation(4)
    runtime = load_builtin_text(_folder(tmp_path, shipped.to_str().encode()), TINY)

    short, long, cut = runtime.predict([{"text": "the cat"}, {"text": SENTENCE}, {"text": SENTENCE, "truncate": True}])

    assert isinstance(short, dict)
    assert short["tokens"] == token_count("the cat") == 4
    assert isinstance(long, ModelFailure)
    assert long.code == "input_too_long"
    assert f"{token_count(SENTENCE)} tokens long; this model takes at most 8." in long.message
    assert isinstance(cut, dict)
    assert cut["tokens"] == 8
    assert isinstance(Tokenizer.from_str(shipped.to_str()).padding, dict)  # the file did ask for padding


@pytest.mark.parametrize(
    ("fact", "value", "named"),
    [
        ("dimension", 16, "dimension"),
        ("max_tokens", 512, "max_tokens"),
        ("normalize", False, "normalize"),
        ("pooling", "cls", "pooling"),
        ("source", {"model": "tests/tiny", "licence": "MIT"}, "source.licence"),
    ],
)
def test_a_manifest_that_states_other_facts_is_refused_naming_them(
    tmp_path: Path, fact: str, value: object, named: str
) -> None:
    with pytest.raises(BuiltinModelFolderError, match=f"disagrees with the registry on {named}$"):
        load_builtin_text(_folder(tmp_path, facts={fact: value}), TINY)


@pytest.mark.parametrize("name", ["model.onnx", "tokenizer.json"])
def test_a_file_changed_after_the_build_is_refused(tmp_path: Path, name: str) -> None:
    folder = _folder(tmp_path)
    data = bytearray((folder / name).read_bytes())
    data[-2] ^= 1  # same size, other bytes
    (folder / name).write_bytes(bytes(data))

    with pytest.raises(ArtifactIntegrityError, match=f"{name}: sha256 differs"):
        load_builtin_text(folder, TINY)


class NoDownloads:
    def download(self, key: str, destination: Path) -> None:
        raise AssertionError(f"a built-in is never downloaded ({key})")


def test_a_missing_folder_leaves_the_built_in_unavailable(tmp_path: Path) -> None:
    loader = RuntimeLoader(ArtifactFiles(NoDownloads(), tmp_path / "cache"), builtin_models_dir=tmp_path)

    with pytest.raises(BuiltinModelFolderError):
        load_builtin_text(tmp_path / "tiny", TINY)
    with pytest.raises(RuntimeUnavailableError, match="all-minilm-l6-v2"):
        loader(EMBEDDING_MODEL.version())
