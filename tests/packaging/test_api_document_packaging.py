"""SharedLayer ships the committed ``openapi.json`` where the document function reads it."""

import os
import subprocess
import sys
from pathlib import Path

from tools.template import ROOT

READ = "from shared.api.openapi import DOCUMENT_FILE, committed_document; print(DOCUMENT_FILE); " + (
    "import sys; sys.stdout.flush(); sys.stdout.buffer.write(committed_document())"
)


def test_the_shared_layer_build_puts_the_document_next_to_shared(tmp_path: Path) -> None:
    """The layer's recipe alone (a copy, no `sam build`), then the function's loader run from the layer."""
    artifacts = tmp_path / "layer"
    env = {**os.environ, "ARTIFACTS_DIR": str(artifacts)}
    subprocess.run(["make", "--no-print-directory", "build-SharedLayer"], cwd=ROOT / "layers", env=env, check=True)

    ran = subprocess.run(
        [sys.executable, "-c", READ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(artifacts / "python"), "PYTHONSAFEPATH": "1"},
        capture_output=True,
        check=True,
    )

    location, _, document = ran.stdout.partition(b"\n")
    assert Path(location.decode()) == artifacts / "python" / "openapi.json"
    assert document == (ROOT / "openapi.json").read_bytes()
