"""The layers Makefile's bytecode step on its own (``build-SharedLayer``, a copy: no ``sam build``).

With CPython 3.12 (found by ``tools.python312``, the Makefile's lookup) every module of ``shared`` gets an
unchecked-hash .pyc; with none (``PYTHON312`` pointed at a missing interpreter, as on a build machine
without 3.12) the build still succeeds, says so on stdout (which ``sam build`` shows) and ships sources.
The deployment build's layers are checked in ``test_built_artifacts.py``.
"""

import os
import subprocess
from pathlib import Path

import pytest

from tools.python312 import python312
from tools.template import ROOT

UNCHECKED_HASH = 0b01  # PEP 552 flags: hash-based, source not checked


def build_shared_layer(artifacts: Path, *variables: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ARTIFACTS_DIR": str(artifacts)}
    env.pop("PYTHON312", None)
    return subprocess.run(
        ["make", "--no-print-directory", "build-SharedLayer", *variables],
        cwd=ROOT / "layers",
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_without_python_312_the_layer_ships_sources_and_says_so(tmp_path: Path) -> None:
    built = build_shared_layer(tmp_path, f"PYTHON312={tmp_path / 'missing' / 'python3.12'}")

    assert built.returncode == 0, built.stdout + built.stderr
    assert "WARNING: build-SharedLayer: no CPython 3.12" in built.stdout
    assert "shipping sources only" in built.stdout
    assert list(tmp_path.rglob("*.pyc")) == []
    assert (tmp_path / "python" / "shared" / "api" / "app.py").is_file()


def test_an_interpreter_that_is_not_312_counts_as_none(tmp_path: Path) -> None:
    """Bytecode of another version would be dead weight: Lambda's 3.12 ignores it."""
    built = build_shared_layer(tmp_path, "PYTHON312=python3.11")

    assert built.returncode == 0, built.stdout + built.stderr
    assert "no CPython 3.12" in built.stdout
    assert list(tmp_path.rglob("*.pyc")) == []


def test_with_python_312_every_module_gets_unchecked_hash_bytecode(tmp_path: Path) -> None:
    if python312() is None:
        pytest.skip("no CPython 3.12 on this machine (tools.python312): the build ships sources only")

    built = build_shared_layer(tmp_path)

    assert built.returncode == 0, built.stdout + built.stderr
    assert "build-SharedLayer: bytecode for CPython 3.12" in built.stdout
    sources = sorted((tmp_path / "python" / "shared").rglob("*.py"))
    assert sources
    for source in sources:
        pyc = source.parent / "__pycache__" / f"{source.stem}.cpython-312.pyc"
        assert int.from_bytes(pyc.read_bytes()[4:8], "little") == UNCHECKED_HASH, pyc
