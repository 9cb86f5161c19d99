"""A built-in text model, served by ``TextRuntime`` from the folder the deployment ships.

The folder (``<BUILTIN_MODELS_DIR>/<name>/``: ``/opt/models/<name>/`` from the EmbeddingModelLayer in Lambda,
``.aws-sam/models/<name>/`` locally) holds ``model.onnx``, ``tokenizer.json`` and ``manifest.json``, written by
``tools.embedding_model.build``. Before anything is used, the manifest must state the registry's facts of the
model (task, pooling, normalisation, dimension, maximum tokens, source, licence), and each file served must
have the size and sha256 the manifest records: the bytes checked are the bytes loaded. The tokenizer's
padding and truncation are the runtime's own (``TextTokenizer``: none in the file, ``max_tokens`` from the
registry), whatever the file says.
"""

import hashlib
import json
from pathlib import Path
from typing import Any

from shared.registry.builtins import BuiltinTextModel
from shared.runtimes.artifacts import ArtifactIntegrityError
from shared.runtimes.text import TextRuntime

MANIFEST = "manifest.json"
GRAPH = "model.onnx"
TOKENIZER = "tokenizer.json"
MAX_MANIFEST_BYTES = 64 * 1024


class BuiltinModelFolderError(Exception):
    """The model folder is missing or its manifest does not describe the registry's model."""


def load_builtin_text(folder: Path, model: BuiltinTextModel) -> TextRuntime:
    """The model's runtime; ``BuiltinModelFolderError`` or ``ArtifactIntegrityError`` when the folder is not
    the model the registry describes (and the runtime's own errors when the checked files do not load)."""
    manifest = read_manifest(folder)
    drift = manifest_drift(manifest, model)
    if drift:
        raise BuiltinModelFolderError(f"{folder / MANIFEST} disagrees with the registry on {', '.join(drift)}")
    graph = _verified(folder, GRAPH, manifest)
    tokenizer = _verified(folder, TOKENIZER, manifest)
    return TextRuntime(graph, tokenizer.decode("utf-8"), model.spec)


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_MANIFEST_BYTES + 1)
    except OSError as error:
        raise BuiltinModelFolderError(f"{path} cannot be read ({type(error).__name__})") from error
    if len(data) > MAX_MANIFEST_BYTES:
        raise BuiltinModelFolderError(f"{path} is over {MAX_MANIFEST_BYTES} bytes")
    try:
        manifest = json.loads(data)
    except ValueError:
        raise BuiltinModelFolderError(f"{path} is not JSON") from None
    if not isinstance(manifest, dict):
        raise BuiltinModelFolderError(f"{path} is not a JSON object")
    return manifest


def manifest_drift(manifest: dict[str, Any], model: BuiltinTextModel) -> list[str]:
    """The facts (dotted key paths) the manifest states otherwise than the registry, or not at all."""
    return [".".join(path) for path, wanted in model.manifest_facts().items() if _at(manifest, path) != wanted]


def _at(document: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(document, dict):
            return None
        document = document.get(key)
    return document


def _verified(folder: Path, name: str, manifest: dict[str, Any]) -> bytes:
    recorded = _at(manifest, ("files", name))
    if not isinstance(recorded, dict) or not isinstance(recorded.get("sha256"), str):
        raise BuiltinModelFolderError(f"{folder / MANIFEST} records no sha256 of {name}")
    data = (folder / name).read_bytes()
    if len(data) != recorded.get("bytes"):
        raise ArtifactIntegrityError(f"{name} is {len(data)} bytes, the manifest records {recorded.get('bytes')}")
    if hashlib.sha256(data).hexdigest() != recorded["sha256"]:
        raise ArtifactIntegrityError(f"{name}: sha256 differs from the manifest's")
    return data
