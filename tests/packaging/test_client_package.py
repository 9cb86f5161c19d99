"""The client package as a user installs it: ``pip install ./client`` into an empty environment.

The wheel is built from ``client/`` and installed with nothing but what it declares (resolved to this
repository's locked versions, from the package cache: no network), then used from outside the checkout.
"""

import re
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from tools.template import ROOT

UV = ROOT / ".tools" / "bin" / "uv"  # what `make` bootstraps first


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [str(UV), "build", "--quiet", "--offline", "--wheel", str(ROOT / "client"), "-o", str(out)], check=True
    )
    [built] = out.glob("infergate-*.whl")
    return built


def test_the_wheel_holds_only_the_typed_package_and_needs_only_httpx_and_pydantic(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = Parser().parsestr(archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode())
        entry_points = archive.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()

    assert {name.split("/")[0] for name in names} == {"infergate", wheel.name.split("-py3")[0] + ".dist-info"}
    assert "infergate/py.typed" in names
    required = [
        (re.split(r"[^A-Za-z0-9_.-]", line, maxsplit=1)[0], ";" in line)
        for line in metadata.get_all("Requires-Dist") or []
    ]
    assert {name for name, marked in required if not marked} == {"httpx", "pydantic"}
    assert {name for name, marked in required if marked} == {"boto3"}  # the `admin` extra only
    assert "infergate = infergate.cli:main" in entry_points


def test_installed_alone_it_imports_runs_and_brings_nothing_of_the_service(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([str(UV), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    locked = tmp_path / "constraints.txt"
    exported = subprocess.run(
        [str(UV), "export", "--frozen", "--no-hashes", "--all-groups", "--no-header", "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    locked.write_text("".join(line + "\n" for line in exported.splitlines() if not line.startswith(("-e", "."))))
    python = venv / "bin" / "python"
    install = [str(UV), "pip", "install", "--quiet", "--offline", "--python", str(python), "-c", str(locked)]
    subprocess.run([*install, str(wheel)], check=True)

    listed = subprocess.run(
        [str(UV), "pip", "freeze", "--python", str(python)], capture_output=True, text=True, check=True
    ).stdout
    installed = {re.split(r"==| @ ", line)[0].lower() for line in listed.splitlines()}
    version = subprocess.run(
        [str(venv / "bin" / "infergate"), "--version"], capture_output=True, text=True, cwd=tmp_path
    )
    probe = "import infergate.cli, sys; print(sorted(m for m in ('shared', 'boto3', 'fastapi') if m in sys.modules))"
    imported = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, cwd=tmp_path, check=True)
    admin = subprocess.run(
        [str(venv / "bin" / "infergate"), "admin", "dlq", "show", "--stack-name", "x"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )

    assert installed >= {"infergate", "httpx", "pydantic"}
    assert not installed & {"boto3", "botocore", "fastapi", "mangum", "aws-lambda-powertools"}
    assert (version.returncode, version.stdout.strip()) == (0, "infergate 0.1.0")
    assert imported.stdout.strip() == "[]"
    assert admin.returncode == 2  # a usage error saying what to install, not a traceback
    assert "pip install 'infergate[admin]'" in admin.stderr
