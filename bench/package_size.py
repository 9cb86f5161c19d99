"""Package size of every built function and layer: unzipped, and zipped as it would be uploaded.

    .venv/bin/python -m bench.package_size [--build-dir .aws-sam/build]

Runs the deployment ``sam build`` (arm64 layers; no Docker) into a temporary folder, exactly as the
built-artifact tests do (``tools.sam_build``; the SAM CLI of ``.venv-sam`` or ``$SAM_CLI``), or measures
an existing build with ``--build-dir``. One row per function (logical id): its own code (its build
folder), its layers in Lambda's order, the unzipped total of code plus layers (what counts against
Lambda's 250 MB limit) and the zipped total (a DEFLATE zip of the code plus one of each layer: what is
uploaded, and what Lambda fetches on a cold start); then one row per layer. The size-budget guard of
the API functions is ``test_api_functions_within_size_budget`` in
``tests/packaging/test_built_artifacts.py``.
"""

import argparse
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tools.sam_build import SamBuildError, layers_of, run_sam_build, tree_size, zipped_size
from tools.template import FunctionSpec, load_template

KIB = 1024
MIB = 1024 * 1024


@dataclass(frozen=True)
class PackageSize:
    name: str  # logical id of the function or layer
    kind: str  # "api", "queue", "schedule", "invoked" (functions) or "layer"
    layers: tuple[str, ...]  # a function's layers in Lambda's order; () for a layer
    code: int  # bytes, unzipped: the function's own build folder, or the whole layer
    code_zipped: int  # bytes of that folder as a DEFLATE zip
    total: int  # bytes, unzipped: code plus every layer
    total_zipped: int  # bytes: the code's zip plus each layer's zip


def kind_of(spec: FunctionSpec) -> str:
    if spec.is_api:
        return "api"
    if spec.queue_triggers:
        return "queue"
    if spec.schedules:
        return "schedule"
    return "invoked"  # by another function through the Lambda Invoke API


def measure(build: Path) -> list[PackageSize]:
    """The rows for an existing ``sam build`` output folder: every function of template.yaml, then every layer."""
    template = load_template()
    layers = {}
    for name in template.of_type("AWS::Serverless::LayerVersion"):
        size, zipped = tree_size(build / name), zipped_size(build / name)
        layers[name] = PackageSize(name, "layer", (), size, zipped, size, zipped)
    functions = []
    for spec in template.functions:
        folder = build / spec.logical_id
        assert folder.is_dir(), f"sam build produced no {folder}"
        own = tuple(layers_of(template, spec))
        code, code_zipped = tree_size(folder), zipped_size(folder)
        functions.append(
            PackageSize(
                spec.logical_id,
                kind_of(spec),
                own,
                code,
                code_zipped,
                code + sum(layers[layer].code for layer in own),
                code_zipped + sum(layers[layer].code_zipped for layer in own),
            )
        )
    return functions + list(layers.values())


def package_sizes(build_dir: Path | None = None) -> list[PackageSize]:
    """The rows of the deployment build: measured in ``build_dir`` if given, else built into a temporary folder."""
    if build_dir is not None:
        return measure(build_dir)
    with tempfile.TemporaryDirectory(prefix="infergate-package-size-") as folder:
        return measure(run_sam_build(Path(folder) / "build", None))


def human(size: int) -> str:
    """KiB with one decimal below 1 MiB, MiB with two above."""
    return f"{size / KIB:.1f} KiB" if size < MIB else f"{size / MIB:.2f} MiB"


def table(rows: list[PackageSize]) -> str:
    lines = [
        "| package | kind | layers | code | code zipped | total unzipped | total zipped |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        layers = ", ".join(layer.removesuffix("Layer") for layer in row.layers) or "—"
        lines.append(
            f"| {row.name} | {row.kind} | {layers} | {human(row.code)} | {human(row.code_zipped)} "
            f"| {human(row.total)} | {human(row.total_zipped)} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", type=Path, help="measure this existing sam build output instead of building")
    parser.add_argument("--json", type=Path, help="also write the key figures to this file (for `python -m bench`)")
    args = parser.parse_args()
    try:
        rows = package_sizes(args.build_dir)
    except SamBuildError as error:
        parser.exit(1, f"{error}\n")
    print("\nPackage sizes of the deployment build (arm64), unzipped and DEFLATE-zipped\n")  # noqa: T201
    print(table(rows))  # noqa: T201
    if args.json:
        figures = {
            row.name: {"kind": row.kind, "layers": list(row.layers), "code": row.code, "total": row.total}
            for row in rows
        }
        args.json.write_text(json.dumps(figures), encoding="utf-8")


if __name__ == "__main__":
    main()
