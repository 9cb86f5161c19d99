"""The layers install exactly what uv.lock pins: the committed requirements are what `make lock` exports."""

import subprocess
from pathlib import Path

import pytest

from tools.template import ROOT

UV = ROOT / ".tools" / "bin" / "uv"
EXPORT = ["export", "--frozen", "--no-emit-project", "--no-header", "--quiet"]

# Same selections as the Makefile's `lock` target.
LAYER_REQUIREMENTS = {
    "requirements-dependencies.txt": ["--no-dev", "--no-default-groups"],
    "requirements-models.txt": ["--no-default-groups", "--only-group", "models"],
    "requirements-tracing.txt": ["--no-default-groups", "--only-group", "tracing"],
}


@pytest.mark.parametrize("requirements", sorted(LAYER_REQUIREMENTS))
def test_layer_requirements_match_uv_lock(requirements: str, tmp_path: Path) -> None:
    if not UV.is_file():
        pytest.fail(f"{UV.relative_to(ROOT)} is missing: `make pytest` installs it (the Makefile's $(UV) target)")
    exported = tmp_path / requirements
    completed = subprocess.run(
        [str(UV), *EXPORT, *LAYER_REQUIREMENTS[requirements], "-o", str(exported)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    committed = (ROOT / "layers" / requirements).read_text(encoding="utf-8")
    assert committed == exported.read_text(encoding="utf-8"), f"layers/{requirements} is stale: run `make lock`"
