"""The built-in embedding model (all-minilm-l6-v2), built by the layer's own recipe, served on moto by the
real handlers: its quality (paraphrases above unrelated sentences), the same vector on the sync route, the
worker and batches, its limits, and its registry entry against the manifest of the build."""

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from shared.registry.builtins import EMBEDDING_MODEL
from shared.runtimes.builtin_text import load_builtin_text, manifest_drift, read_manifest
from tests.conftest import Credential
from tests.integration.test_text_models import _async, _batch, _predict, _refused
from tests.support.events import bearer, response_json
from tests.support.gateway import call
from tools.provision import Stack

NAME = EMBEDDING_MODEL.name
# (anchor, paraphrase, unrelated): STS-style pairs the upstream model card's benchmark family uses.
PAIRS = (
    ("A man is playing a guitar.", "Someone is playing the guitar.", "The stock market fell sharply today."),
    ("How do I reset my password?", "I forgot my password, how can I change it?", "Kittens sleep most of the day."),
)
UNICODE = "Naïve café owners in Zürich serve crème brûlée ☕ and 日本語 menus."
LONG = "Serverless inference keeps the embedding model small enough. " * 164  # 10,004 characters
TEXTS: list[dict[str, Any]] = [
    {"text": "A man is eating food."},
    {"text": UNICODE},
    {"text": ""},
    {"text": LONG, "truncate": True},
    {"text": "A man is eating a piece of bread."},
]


def _vector(response: dict[str, Any]) -> "np.ndarray[Any, Any]":
    body = response_json(response)
    assert response["statusCode"] == 200, body
    return np.asarray(body["output"]["embedding"], dtype=np.float64)


def test_the_built_model_states_the_registry_s_facts(builtin_models_dir: Path) -> None:
    manifest = read_manifest(builtin_models_dir / NAME)

    assert manifest_drift(manifest, EMBEDDING_MODEL) == []
    assert (manifest["weights"], manifest["arithmetic"]) == ("int8", "float32")
    assert manifest["checks"]["max_abs_diff_alone_vs_batch"] <= 1e-6
    assert set(manifest["files"]) >= {"model.onnx", "tokenizer.json"}


def test_a_paraphrase_scores_clearly_above_an_unrelated_sentence(builtin_models: Path, admin: Credential) -> None:
    for anchor, paraphrase, unrelated in PAIRS:
        a, p, u = (_vector(_predict(admin.secret, NAME, {"text": text})) for text in (anchor, paraphrase, unrelated))

        assert np.linalg.norm(a) == pytest.approx(1.0, abs=1e-5)  # normalised: a dot product is the cosine
        assert a @ p > 0.6, (anchor, float(a @ p))
        assert a @ p - a @ u > 0.5, (anchor, float(a @ p), float(a @ u))


def test_the_same_text_gives_the_same_vector_on_every_path(
    builtin_models: Path, stack: Stack, admin: Credential
) -> None:
    sync = [response_json(_predict(admin.secret, NAME, payload)) for payload in TEXTS]
    finished = _async(stack, admin.secret, NAME, TEXTS)
    batched = _batch(stack, NAME, TEXTS)

    for n, payload in enumerate(TEXTS):
        vector = sync[n]["output"]["embedding"]
        assert len(vector) == 384, payload["text"][:40]
        assert finished[n]["status"] == "succeeded", finished[n]
        assert finished[n]["output"]["embedding"] == pytest.approx(vector, abs=1e-6)
        assert batched[f"t-{n}"]["output"]["embedding"] == pytest.approx(vector, abs=1e-6)
        assert finished[n]["output"]["tokens"] == batched[f"t-{n}"]["output"]["tokens"] == sync[n]["output"]["tokens"]
    assert [result["output"]["tokens"] for result in sync] == [8, sync[1]["output"]["tokens"], 2, 256, 11]
    assert sync[1]["output"]["tokens"] > 10  # Unicode: accents and CJK become tokens, not [UNK] alone


def test_a_text_alone_and_in_a_batch_of_32_mixed_lengths_gets_the_same_vector(builtin_models_dir: Path) -> None:
    """Batching is on for the built-in (int8 weights, float32 arithmetic): one session run of 32 texts of
    mixed lengths, padded to the longest, gives each text the vector it gets alone."""
    runtime = load_builtin_text(builtin_models_dir / NAME, EMBEDDING_MODEL)
    texts = [LONG[: 10 + 30 * n] for n in range(28)] + [UNICODE, *(anchor for anchor, _, _ in PAIRS), LONG]
    assert len(texts) == 32

    together, tokens = runtime.embed(texts, truncate=True)
    alone = [runtime.embed([text], truncate=True)[0][0] for text in texts]

    assert len(set(tokens)) > 24  # mixed lengths: nearly every row carries padding in the batch
    assert max(tokens) == 256  # one micro-batch (32 x 256 tokens) padded to the longest text
    assert float(np.abs(np.asarray(together) - np.asarray(alone)).max()) <= 1e-6


def test_a_long_text_is_refused_naming_the_limit_unless_the_request_truncates(
    builtin_models: Path, stack: Stack, admin: Credential
) -> None:
    refused = _predict(admin.secret, NAME, {"text": LONG})
    truncated = _predict(admin.secret, NAME, {"text": LONG, "truncate": True})
    [failed] = _async(stack, admin.secret, NAME, [{"text": LONG}])

    detail = _refused(refused, 422, "prediction-failed", "/input")["detail"]
    assert "this model takes at most 256." in detail
    assert "truncate: true" in detail
    assert response_json(truncated)["output"]["tokens"] == 256
    assert (failed["status"], failed["error"]["code"]) == ("failed", "input_too_long")
    assert "at most 256" in failed["error"]["message"]


def test_the_registry_shows_the_built_in_s_task_dimension_and_limit(builtin_models: Path, admin: Credential) -> None:
    listed = response_json(call("GET", "/v1/models", headers=bearer(admin.secret)))
    got = response_json(call("GET", f"/v1/models/{NAME}", headers=bearer(admin.secret)))

    assert next(model for model in listed["results"] if model["name"] == NAME) == got
    assert "Apache-2.0" in got["description"]
    assert "all-MiniLM-L6-v2" in got["description"]
    [version] = got["versions"]
    assert (version["version"], version["runtime"], version["artifact"]) == (1, "text", None)
    assert version["text"] == {
        "task": "feature-extraction",
        "max_tokens": 256,
        "dimension": 384,
        "pooling": "mean",
        "normalize": True,
        "activation": None,
        "top_k": None,
        "labels": None,
    }


def test_a_model_folder_that_is_not_the_built_one_is_never_served(
    builtin_models: Path, admin: Credential, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tokenizer changed after the build (same size) is refused: 503, nothing computed with it."""
    folder = tmp_path / NAME
    folder.mkdir()
    for item in (builtin_models / NAME).iterdir():
        (folder / item.name).symlink_to(item)
    (folder / "tokenizer.json").unlink()
    tokenizer = (builtin_models / NAME / "tokenizer.json").read_bytes()
    (folder / "tokenizer.json").write_bytes(tokenizer.replace(b'"[UNK]"', b'"[UNX]"', 1))
    monkeypatch.setenv("BUILTIN_MODELS_DIR", str(tmp_path))
    from shared.wiring import reset

    reset()

    response = _predict(admin.secret, NAME, {"text": "hello"})

    assert response["statusCode"] == 503, response_json(response)
    assert json.dumps(response_json(response)).find("UNX") == -1
