"""Cold start as Lambda sees it: each function from its built package, sources only and with bytecode.

    .venv/bin/python -m bench.built_cold_start [--runs 3] [--source-runs N] [--only ListKeysFunction ...]
        [--build-dir DIR]

The packages are the host-architecture twin of the deployment build (``LAYER_ARCH=x86_64 sam build``
through ``tools.sam_build``: the same lock, layers Makefile and code, with wheels this machine can load),
or an existing twin build (``--build-dir``). Each function is copied into a tree laid out as Lambda
extracts it: its build folder as ``var/task`` and its layers' ``python/`` folders merged in order into
``opt/python`` (a later layer's file wins), files with fresh modification times as from a zip. Twice: as
built (with the layers' CPython 3.12 bytecode, layers/Makefile) and sources only (``__pycache__`` left
out: what a build machine without 3.12 ships). The trees are made read-only and must be unchanged after
the run (this process may be root, which read-only bits do not stop, hence the check).

Each sample is a fresh CPython 3.12 (``tools.python312``) run as ``-I -S -B -X frozen_modules=on`` in its
``var/task``, with Lambda's ``sys.path`` (``var/task``, ``opt/python/lib/python3.12/site-packages``,
``opt/python``, then the standard library): no bytecode is written (``-B``, i.e. ``sys.dont_write_bytecode``,
as ``PYTHONDONTWRITEBYTECODE=1`` would do without ``-I``), so no run is helped by an earlier one's cache.
Timed as ``bench.cold_start`` times (its driver, moto stack, roles and events): import + init + first
event, median of ``--runs`` (``--source-runs`` for the sources variant: the reference, not the target).
The floor is ``bench.cold_start``'s floor handler in its own ``var/task`` on the DependenciesLayer (boto3,
pydantic), measured the same way in both variants; beside it the FastAPI + Mangum floor, the same call
served as one FastAPI route through Mangum: what the framework alone costs. Also printed: each function's
code + layers, unzipped and zipped, in both variants, and the time CPython 3.12 takes to compile a
function's own ``app.py`` (what shipping the function's bytecode too would save).
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.cold_start import FLOOR, local_stack, sample
from bench.package_size import human
from tools.local_roles import LocalRoles
from tools.python312 import python312
from tools.sam_build import SamBuildError, layers_of, run_sam_build, tree_size, zipped_size
from tools.template import ROOT, FunctionSpec, Template, load_template

VARIANTS = ("sources", "bytecode")
LAMBDA_FLAGS = ("-I", "-S", "-B", "-X", "frozen_modules=on")
FLOOR_NAME = "floor (boto3 GetItem + pydantic)"
FRAMEWORK_NAME = "FastAPI + Mangum floor (the floor's GetItem as one route)"
FLOOR_LAYERS = ("DependenciesLayer",)
# What the design card's framework costs on its own: the floor's call served as one FastAPI route through
# Mangum, as our functions serve theirs (no auth, no middleware, no problem handlers).
FRAMEWORK_FLOOR = """
import os
import boto3
from fastapi import FastAPI
from mangum import Mangum
from pydantic import BaseModel

class Answer(BaseModel):
    found: bool

client = boto3.client("dynamodb")
app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

@app.get("/v1/health")  # the path of the event both floors serve (events/get_health.json)
def health() -> Answer:
    item = client.get_item(TableName=os.environ["TABLE_NAME"], Key={"PK": {"S": "TENANT#example"}, "SK": {"S": "X"}})
    return Answer(found="Item" in item)

handler = Mangum(app, lifespan="off")
"""
LAMBDALITH_NAME = "Lambdalith (POST /v1/predictions)"
LAMBDALITH_LAYERS_OF = "PredictModelFunction"  # it serves inference too: the layers of the function that does


@dataclass(frozen=True)
class Reference:
    """A handler measured beside the template's functions: its module's source (``reference.py`` in its
    ``var/task``), the event it serves, and its layers (None: ``LAMBDALITH_LAYERS_OF``'s)."""

    source: str
    event: str
    layers: tuple[str, ...] | None = FLOOR_LAYERS
    with_functions: bool = False  # the repository's ``functions`` package beside it (it mounts every router)


REFERENCES = {
    FLOOR_NAME: Reference(FLOOR, "get_health.json"),
    FRAMEWORK_NAME: Reference(FRAMEWORK_FLOOR, "get_health.json"),
    LAMBDALITH_NAME: Reference(
        (ROOT / "bench" / "lambdalith.py").read_text(encoding="utf-8"), "create_prediction.json", None, True
    ),
}

# Runs under CPython 3.12: argv[1] a JSON list of app.py paths; prints the median ms to compile each.
COMPILE_TIME = r"""
import json, statistics, sys, time
medians = {}
for path in json.loads(sys.argv[1]):
    source = open(path, "rb").read()
    times = []
    for _ in range(21):
        began = time.perf_counter()
        compile(source, path, "exec", dont_inherit=True)
        times.append(time.perf_counter() - began)
    medians[path] = statistics.median(times) * 1000
print(json.dumps(medians))
"""


@dataclass(frozen=True)
class Tree:
    """One function (or the floor) laid out as Lambda extracts it."""

    task: Path  # /var/task
    opt: Path  # /opt

    def sys_path(self) -> list[str]:
        python = self.opt / "python"
        return [str(self.task), str(python / "lib" / "python3.12" / "site-packages"), str(python)]


@dataclass(frozen=True)
class Row:
    name: str
    seconds: dict[str, float]  # variant -> median import + init + first event
    unzipped: dict[str, int]  # variant -> bytes of code + layers
    zipped: dict[str, int]
    peak_rss_mib: float  # median peak RSS after the first event, with bytecode: what its memory size must hold


def lay_out(build: Path, root: Path, packages: dict[str, tuple[str, ...]], variant: str) -> dict[str, Tree]:
    """``packages``: function name -> its layers in Lambda's order (the floor's code is written, not copied)."""
    ignore = None if variant == "bytecode" else shutil.ignore_patterns("__pycache__")
    opts: dict[tuple[str, ...], Path] = {}
    trees = {}
    for name, layers in packages.items():
        code_layers = tuple(layer for layer in layers if (build / layer / "python").is_dir())
        if code_layers not in opts:
            opt = root / variant / f"opt-{len(opts)}"
            for layer in code_layers:
                target = opt / "python"
                shutil.copytree(
                    build / layer / "python", target, ignore=ignore, copy_function=shutil.copyfile, dirs_exist_ok=True
                )
            opts[code_layers] = opt
        task = root / variant / name / "task"
        if name in REFERENCES:
            task.mkdir(parents=True)
            (task / "reference.py").write_text(REFERENCES[name].source, encoding="utf-8")
            if REFERENCES[name].with_functions:
                shutil.copytree(
                    ROOT / "functions",
                    task / "functions",
                    ignore=shutil.ignore_patterns("__pycache__"),  # function folders ship sources (SAM's builder)
                    copy_function=shutil.copyfile,
                )
        else:
            shutil.copytree(build / name, task, ignore=ignore, copy_function=shutil.copyfile)
        trees[name] = Tree(task, opts[code_layers])
    return trees


@contextmanager
def read_only(root: Path) -> Iterator[None]:
    """``root`` read-only while in use, and unchanged afterwards (checked: root ignores the mode bits)."""
    before = sorted(root.rglob("*"))
    _chmod(root, writable=False)
    try:
        yield
        after = sorted(root.rglob("*"))
        written = sorted(set(map(str, after)) - set(map(str, before)))
        if written:
            raise RuntimeError(f"the runs wrote into the read-only trees, e.g. {written[:3]}")
    finally:
        _chmod(root, writable=True)


def _chmod(root: Path, writable: bool) -> None:
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        mode = path.stat().st_mode
        path.chmod(mode | 0o200 if writable else mode & ~0o222)


def sizes(build: Path, packages: dict[str, tuple[str, ...]]) -> dict[str, tuple[dict[str, int], dict[str, int]]]:
    """Function name -> (unzipped, zipped) bytes of its code + layers per variant (the floor's: its layers)."""
    used = {layer for layers in packages.values() for layer in layers}
    measured: dict[str, dict[str, tuple[int, int]]] = {}
    for folder in [*used, *(name for name in packages if name not in REFERENCES)]:
        measured[folder] = {
            variant: (
                tree_size(build / folder, variant == "bytecode"),
                zipped_size(build / folder, variant == "bytecode"),
            )
            for variant in VARIANTS
        }
    result = {}
    for name, layers in packages.items():
        parts = [*layers] if name in REFERENCES else [name, *layers]
        unzipped = {variant: sum(measured[part][variant][0] for part in parts) for variant in VARIANTS}
        zipped = {variant: sum(measured[part][variant][1] for part in parts) for variant in VARIANTS}
        result[name] = (unzipped, zipped)
    return result


def compile_times(python: str, build: Path, names: list[str]) -> dict[str, float]:
    """Function name -> median ms CPython 3.12 takes to compile its own app.py (no bytecode is shipped for it)."""
    paths = {str(build / name / "app.py"): name for name in names}
    done = subprocess.run(
        [python, *LAMBDA_FLAGS, "-c", COMPILE_TIME, json.dumps(list(paths))],
        capture_output=True,
        text=True,
        check=True,
    )
    return {paths[path]: ms for path, ms in json.loads(done.stdout).items()}


def measure(
    python: str,
    build: Path,
    template: Template,
    specs: list[FunctionSpec],
    env: dict[str, str],
    roles: LocalRoles,
    runs: dict[str, int],  # variant -> samples
) -> list[Row]:
    by_id = {spec.logical_id: spec for spec in template.functions}
    lambdalith_layers = tuple(layers_of(template, by_id[LAMBDALITH_LAYERS_OF]))
    packages = {
        **{name: reference.layers or lambdalith_layers for name, reference in REFERENCES.items()},
        **{spec.logical_id: tuple(layers_of(template, spec)) for spec in specs},
    }
    found_sizes = sizes(build, packages)
    events = ROOT / "events"
    env = {**env, "PYTHONDONTWRITEBYTECODE": "1"}  # as Lambda; under -I it is -B that does it
    configs: dict[str, tuple[dict[str, object], dict[str, str]]] = {  # no template role fits: the operator's
        name: (
            {"module": "reference", "handler": "handler", "name": "Reference", "event": str(events / reference.event)},
            {**env, **roles.operator.environment()},
        )
        for name, reference in REFERENCES.items()
    }
    for spec in specs:
        config: dict[str, object] = {
            "module": spec.handler.rsplit(".", 1)[0],  # from var/task, as Lambda imports it
            "handler": spec.handler_name,
            "name": spec.logical_id,
            "event": str(events / f"{spec.folder}.json"),
        }
        configs[spec.logical_id] = (config, {**env, **roles.credentials(spec.logical_id).environment()})
    rows = []
    with tempfile.TemporaryDirectory(prefix="infergate-built-cold-") as folder:
        root = Path(folder)
        trees = {variant: lay_out(build, root, packages, variant) for variant in VARIANTS}
        with read_only(root):
            for name, (found, own_env) in configs.items():
                seconds, peaks = {}, {}
                for variant in VARIANTS:  # alternating, so drift in the machine's load hits both alike
                    tree = trees[variant][name]
                    located = {**found, "paths": tree.sys_path()}
                    _, seconds[variant], peaks[variant] = sample(
                        located, own_env, runs[variant], (python, *LAMBDA_FLAGS), tree.task
                    )
                rows.append(Row(name, seconds, *found_sizes[name], peaks["bytecode"]))
                timings = ", ".join(f"{variant} {ms * 1000:.0f} ms" for variant, ms in seconds.items())
                sys.stderr.write(f"{name}: {timings}\n")
    return rows


def run(runs: dict[str, int], only: list[str] | None, build_dir: Path | None) -> tuple[list[Row], dict[str, float]]:
    python = python312()
    if python is None:
        raise SystemExit("no CPython 3.12 on this machine (tools.python312): Lambda's cold start cannot be measured")
    template = load_template()
    specs = [spec for spec in template.functions if not only or spec.logical_id in only]
    with tempfile.TemporaryDirectory(prefix="infergate-built-cold-build-") as folder:
        build = build_dir or run_sam_build(Path(folder) / "build", "x86_64")
        if not any((build / "SharedLayer" / "python" / "shared").rglob("*.cpython-312.pyc")):
            raise SystemExit(f"{build} holds no CPython 3.12 bytecode: built without 3.12, nothing to compare")
        with local_stack(template) as (env, roles):
            rows = measure(python, build, template, specs, env, roles, runs)
        return rows, compile_times(python, build, [spec.logical_id for spec in specs])


def table(rows: list[Row], compiled: dict[str, float]) -> str:
    floor = rows[0].seconds
    lambdalith = next(row.seconds["bytecode"] for row in rows if row.name == LAMBDALITH_NAME)
    lines = [
        "| function | sources ms | x floor | bytecode ms | x floor | x Lambdalith | bytecode speed-up | peak RSS MiB "
        "| app.py compile ms | code + layers unzipped, sources → bytecode | zipped, sources → bytecode |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for row in rows:
        source, bytecode = row.seconds["sources"], row.seconds["bytecode"]
        compile_ms = f"{compiled[row.name]:.2f}" if row.name in compiled else "—"
        lines.append(
            f"| {row.name} | {source * 1000:.0f} | {source / floor['sources']:.2f} | {bytecode * 1000:.0f} "
            f"| {bytecode / floor['bytecode']:.2f} | {bytecode / lambdalith:.2f} | {source / bytecode:.2f}x "
            f"| {row.peak_rss_mib:.0f} | {compile_ms} "
            f"| {human(row.unzipped['sources'])} → {human(row.unzipped['bytecode'])} "
            f"| {human(row.zipped['sources'])} → {human(row.zipped['bytecode'])} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--source-runs", type=int, help="samples of the sources variant (default: --runs)")
    parser.add_argument("--only", nargs="*", default=None, help="logical ids of the functions to measure")
    parser.add_argument("--build-dir", type=Path, help="an existing LAYER_ARCH=x86_64 sam build to measure")
    parser.add_argument("--json", type=Path, help="also write the key figures to this file (for `python -m bench`)")
    args = parser.parse_args()
    try:
        runs = {"bytecode": args.runs, "sources": args.source_runs or args.runs}
        rows, compiled = run(runs, args.only, args.build_dir)
    except SamBuildError as error:
        parser.exit(1, f"{error}\n")
    print("\nCold start from the built packages (x86_64 twin), CPython 3.12, read-only, no bytecode cache\n")  # noqa: T201
    print(table(rows, compiled))  # noqa: T201
    if args.json:
        floor, framework, lambdalith, *functions = rows
        figures = {
            "floor": floor.seconds,
            "framework_floor": framework.seconds,
            "lambdalith": lambdalith.seconds,
            "peak_rss_mib": {row.name: row.peak_rss_mib for row in functions},
            "functions": {row.name: row.seconds for row in functions},
            "unzipped": {row.name: row.unzipped for row in functions},
            "zipped": {row.name: row.zipped for row in functions},
            "app_compile_ms": compiled,
        }
        args.json.write_text(json.dumps(figures), encoding="utf-8")


if __name__ == "__main__":
    main()
