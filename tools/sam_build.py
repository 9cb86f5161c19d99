"""``sam build`` of template.yaml into a folder of your choice, and the sizes of what it produced.

Shared by the built-artifact tests (``tests/packaging/test_built_artifacts.py``) and the package-size
benchmark (``bench/package_size.py``), so both measure the same build: the SAM CLI of ``.venv-sam``
(or ``$SAM_CLI``), run from the repository root (samconfig.toml: build_in_source) with fake credentials,
telemetry off and no AWS profile. ``layer_arch=None`` is the deployment build (the layers Makefile's
default ``LAYER_ARCH``, aarch64); ``"x86_64"`` its host-architecture twin.
"""

import os
import subprocess
import tempfile
import zipfile
from pathlib import Path

from tools.template import ROOT, FunctionSpec, Template

REGION = "us-east-1"
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}
BUILD_TIMEOUT_SECONDS = 540


class SamBuildError(RuntimeError):
    """The SAM CLI is missing or ``sam build`` failed; the message says which and shows its output."""


def sam_cli() -> Path:
    sam = Path(os.environ.get("SAM_CLI") or ROOT / ".venv-sam" / "bin" / "sam")
    if not sam.is_file():
        raise SamBuildError(f"SAM CLI not found at {sam}: run `make pytest` (it installs .venv-sam) or set SAM_CLI")
    return sam


def run_sam_build(build_dir: Path, layer_arch: str | None) -> Path:
    """``sam build`` from the repository root (samconfig.toml: build_in_source) into ``build_dir``."""
    env = {name: value for name, value in os.environ.items() if name not in {"AWS_PROFILE", "LAYER_ARCH"}}
    env.update(FAKE_CREDENTIALS)
    env.update({"SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION})
    if layer_arch is not None:
        env["LAYER_ARCH"] = layer_arch
    completed = subprocess.run(
        [str(sam_cli()), "build", "--build-dir", str(build_dir)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_SECONDS,
        check=False,
    )
    if completed.returncode != 0:
        raise SamBuildError(
            f"sam build failed ({completed.returncode}):\n{completed.stdout[-4000:]}\n{completed.stderr[-4000:]}"
        )
    return build_dir


def layers_of(template: Template, spec: FunctionSpec, conditions: frozenset[str] = frozenset()) -> list[str]:
    """Logical ids of the function's layers in Lambda's order, as SAM translated them (Globals' first), with
    the template's ``conditions`` true (``{"TracingOn"}``: the TracingLayer too) and every other one false."""
    layer_ids = []
    for written in spec.layers:
        layer = written
        if isinstance(written, dict) and set(written) == {"Fn::If"}:
            condition, when_true, when_false = written["Fn::If"]
            layer = when_true if condition in conditions else when_false
            if layer == {"Ref": "AWS::NoValue"}:
                continue
        assert isinstance(layer, dict), f"{spec.logical_id}: layer {layer!r} is not a !Ref to a template layer"
        assert set(layer) == {"Ref"}, f"{spec.logical_id}: layer {layer!r} is not a !Ref to a template layer"
        assert template.resources[layer["Ref"]]["Type"] == "AWS::Serverless::LayerVersion"
        layer_ids.append(layer["Ref"])
    return layer_ids


def files_of(folder: Path, bytecode: bool = True) -> list[Path]:
    """The regular files under ``folder`` (symlinks not followed), sorted; without ``__pycache__`` folders'
    if not ``bytecode``: the package as a build without CPython 3.12 ships it (layers/Makefile)."""
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file()
        and not path.is_symlink()
        and (bytecode or "__pycache__" not in path.relative_to(folder).parts)
    )


def tree_size(folder: Path, bytecode: bool = True) -> int:
    """Bytes of the regular files under ``folder`` (unzipped; symlinks not followed)."""
    return sum(path.lstat().st_size for path in files_of(folder, bytecode))


def zipped_size(folder: Path, bytecode: bool = True) -> int:
    """Bytes of ``folder`` as a DEFLATE zip of its files (paths relative to it): what would be uploaded."""
    with tempfile.TemporaryFile() as archive:
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
            for path in files_of(folder, bytecode):
                zipped.write(path, path.relative_to(folder).as_posix())
        return archive.tell()
