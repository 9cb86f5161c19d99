"""Memory sizes from measurement (issue 20): each model function's cheapest ``MemorySize`` whose latency stays
within 10 % of the best, with Lambda's CPU share emulated by a CFS quota.

    .venv/bin/python -m bench.memory_size [--sizes 128 256 ...] [--rounds 3] [--invocations 10]

Lambda gives a function CPU in proportion to its memory: 1,769 MB is one full vCPU, 3,538 MB two, up to six
at 10,240 MB. Here each candidate size gets exactly that share of this machine: a cgroup (v1 ``cpu``
controller, ``/sys/fs/cgroup/cpu``) with ``cpu.cfs_quota_us`` = period x memory / 1,769 (period 100 ms).
Sizes above what this machine's cores can give are left out (and said so). Without a writable cgroup v1
``cpu`` controller (cgroup v2, no root, CI) the benchmark stops with a message: it never measures
unthrottled and calls that a memory size.

What runs (the latency model of ``bench/latency.py`` on: ``INFERGATE_BENCH_LATENCY`` must not be ``off``):

- RunPredictionsFunction: SQS batches of 10 and of 1, ``echo`` and ``sentiment`` (``--models``; ``make bench``
  adds the built-in ``all-minilm-l6-v2``, read from ``--models-dir``, whose batches are CPU-bound).
- PredictModelFunction: ``POST /v1/models/{name}/predict``, warm, the same models.

In this process, on moto (each function as its own role, enforced): each scenario's event is served once to
warm up and once more while its AWS calls are recorded (``bench/fake_aws.py``), as ``worker_throughput``
and ``warm_overhead`` do. Then, per function, a **child interpreter** imports only that function's handler
(no moto, no other function: its peak RSS is the function's), serves each scenario once with the recorded
answers, joins the cgroup, and times ``--invocations`` invocations per scenario per size in each of
``--rounds`` rounds, the sizes in rotating order (a burst of load on this shared machine hits them all), its
quota rewritten between sizes, every answer held back by the latency model's delays (the same sequence of
delays at every size). Per size and scenario: median and p99 wall time per invocation, billed GB-seconds (each
invocation rounded up to the millisecond, at that size), $ per million at arm64 list price
(``bench/aws_calls.py``; per prediction for the worker), and the child's peak RSS (VmHWM).

The choice: a size is **refused** when it cannot hold the process (peak RSS plus ``HEADROOM``); among the
rest, per scenario, the cheapest (billed GB-s) whose median is within ``--tolerance`` (10 %) of the best
median; per function, the cheapest over its scenarios together (the sum of each scenario's GB-s relative to
its cheapest) among the sizes within tolerance in every scenario. The models measured here are small: the
model cache's memory (``MODEL_CACHE_MAX_BYTES``, the built-in embedding model) comes on top, and
docs/performance.md ("Memory sizes") weighs it.

The cgroup is created by this process and removed (``rmdir``) when the children are done, whatever happens.
"""

import argparse
import copy
import json
import math
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, redirect_stdout, suppress
from dataclasses import asdict, dataclass
from importlib import import_module
from pathlib import Path
from typing import Any

from bench.aws_calls import PRICES
from bench.fake_aws import RecordedCall, Replay
from bench.latency import billed_gb_seconds, configured, percentile
from tools.template import ROOT, load_template

LAMBDA_VCPU_MB = 1769  # Lambda's memory for one full vCPU (Lambda Developer Guide, "Configuring memory")
MAX_MEMORY_MB = 10_240
CFS_PERIOD_US = 100_000
CGROUP_CPU = Path("/sys/fs/cgroup/cpu")
CANDIDATES = (128, 256, 512, 768, 1024, 1536, 1769, 2048, 3008, 3538)
TOLERANCE = 0.10
HEADROOM = 0.25  # a size must hold the peak RSS plus this share of it (and at least MIN_HEADROOM_MIB)
MIN_HEADROOM_MIB = 64
MODELS = ("echo", "sentiment")
EMBEDDING_MODEL = "all-minilm-l6-v2"  # optional (--models): needs its built folder (make embedding-model)
WORKER = "RunPredictionsFunction"
PREDICT = "PredictModelFunction"
WORKER_BATCHES = (10, 1)
_PREDICT_INPUTS = {
    "echo": {"text": "Infergate makes serving models easy!"},
    "sentiment": {"text": "It works."},
    EMBEDDING_MODEL: {"text": "A man is playing a guitar."},
}


# ---------------------------------------------------------------- the pure parts (tests/unit/test_bench_memory_size.py)


def cpu_quota_us(memory_mb: int, period_us: int = CFS_PERIOD_US) -> int:
    """The CFS quota that gives a process Lambda's CPU share at ``memory_mb``: ``memory / 1,769`` of a core
    per period (more than one core above 1,769 MB)."""
    if not 128 <= memory_mb <= MAX_MEMORY_MB:
        raise ValueError(f"Lambda memory sizes are 128 to {MAX_MEMORY_MB} MB, not {memory_mb}")
    return max(1000, round(period_us * memory_mb / LAMBDA_VCPU_MB))  # the kernel's least quota is 1 ms


def vcpus(memory_mb: int) -> float:
    return memory_mb / LAMBDA_VCPU_MB


def emulable(sizes: Sequence[int], cpus: int) -> tuple[list[int], list[int]]:
    """(the sizes whose CPU share this machine's ``cpus`` can give, the ones it cannot)."""
    kept = [size for size in sizes if vcpus(size) <= cpus]
    return kept, [size for size in sizes if size not in kept]


def least_memory_mb(peak_rss_mib: float) -> int:
    """The smallest memory size that holds a process of this peak RSS with its head-room (MB taken as MiB,
    as Lambda's "Max Memory Used" counts them)."""
    return math.ceil(peak_rss_mib + max(MIN_HEADROOM_MIB, HEADROOM * peak_rss_mib))


@dataclass(frozen=True)
class SizeFigures:
    """One scenario at one memory size."""

    memory_mb: int
    p50_ms: float
    p99_ms: float
    gb_seconds: float  # billed per invocation, mean


def cheapest_within(rows: Sequence[SizeFigures], tolerance: float = TOLERANCE) -> SizeFigures:
    """The cheapest size (billed GB-s; the smaller on a tie) whose median is within ``tolerance`` of the best."""
    if not rows:
        raise ValueError("no admissible memory size")
    best = min(row.p50_ms for row in rows)
    within = [row for row in rows if row.p50_ms <= best * (1 + tolerance)]
    return min(within, key=lambda row: (row.gb_seconds, row.memory_mb))


def function_choice(scenarios: Sequence[Sequence[SizeFigures]], tolerance: float = TOLERANCE) -> int:
    """One size for a function serving every scenario: among the sizes within ``tolerance`` of the best median
    in every scenario, the one whose GB-s, each relative to that scenario's cheapest, add up least."""
    if not scenarios:
        raise ValueError("no scenario")
    by_size = [{row.memory_mb: row for row in rows} for rows in scenarios]
    common = set.intersection(*(set(sizes) for sizes in by_size))
    best = [min(row.p50_ms for row in rows) for rows in scenarios]
    cheapest = [min(row.gb_seconds for row in rows) for rows in scenarios]
    within = [
        size
        for size in common
        if all(rows[size].p50_ms <= fastest * (1 + tolerance) for rows, fastest in zip(by_size, best, strict=True))
    ]
    if not within:  # cannot happen with one scenario; with several, the fastest overall
        within = [
            min(common, key=lambda size: sum(rows[size].p50_ms / f for rows, f in zip(by_size, best, strict=True)))
        ]

    def relative_cost(size: int) -> float:
        return sum(rows[size].gb_seconds / low for rows, low in zip(by_size, cheapest, strict=True))

    return min(within, key=lambda size: (relative_cost(size), size))


def per_million(gb_seconds: float, per: int = 1) -> float:
    """Lambda arm64 list price of a million invocations of these billed GB-s, per one of ``per`` items each."""
    return (gb_seconds * PRICES["lambda:gb-second"] + PRICES["lambda:request"]) * 1e6 / per


# ---------------------------------------------------------------- the cgroup


class CgroupUnavailableError(RuntimeError):
    """This machine cannot give a process a CPU quota (no cgroup v1 ``cpu`` controller we may write)."""


@contextmanager
def cpu_cgroup(root: Path = CGROUP_CPU) -> Iterator[Path]:
    """A fresh cgroup under the v1 ``cpu`` controller, removed on the way out (its processes must have ended)."""
    if not (root / "cpu.cfs_quota_us").is_file():
        raise CgroupUnavailableError(
            f"no cgroup v1 cpu controller at {root} (cgroup v2, or not mounted): this benchmark emulates Lambda's "
            "CPU share with a CFS quota and cannot measure memory sizes on this machine"
        )
    group = root / f"infergate-bench-memory-{os.getpid()}"
    try:
        group.mkdir()
        (group / "cpu.cfs_period_us").write_text(str(CFS_PERIOD_US), encoding="ascii")
    except OSError as error:
        with suppress(OSError):
            group.rmdir()
        raise CgroupUnavailableError(
            f"cannot create a cgroup under {root} ({error.strerror}): run as root on a machine with cgroup v1"
        ) from error
    try:
        yield group
    finally:
        for _ in range(50):  # the last process may take a moment to leave
            try:
                group.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.1)
        else:
            sys.stderr.write(f"could not remove the cgroup {group}: remove it with rmdir\n")


# ---------------------------------------------------------------- recording (this process, on moto)


@dataclass(frozen=True)
class Scenario:
    name: str
    size: int  # predictions per invocation (the worker's SQS batch; 1 for the predict route)
    event: dict[str, Any]
    calls: list[RecordedCall]


@dataclass(frozen=True)
class Job:
    """What a child interpreter measures: one function, its scenarios, under the cgroup's quota."""

    function: str
    module: str
    handler: str
    timeout: int
    environment: dict[str, str]
    scenarios: list[Scenario]
    sizes: list[int]
    rounds: int
    invocations: int
    cgroup: str
    seed: int


def _predict_event(model: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((ROOT / "events" / "predict_model.json").read_text(encoding="utf-8"))
    path = f"/v1/models/{model}/predict"
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["pathParameters"] = {"name": model}
    event["body"] = json.dumps({"input": _PREDICT_INPUTS[model]})
    event["headers"]["content-length"] = str(len(event["body"].encode()))
    return event


def _worker_input(model: str, index: int) -> dict[str, Any]:
    from bench.worker_throughput import model_input

    texts = ("A man is playing a guitar.", "The queue was slow today and the results came late.", "It works.")
    return {"text": texts[index % len(texts)]} if model == EMBEDDING_MODEL else model_input(model, index)


def record(models: Sequence[str], models_dir: Path) -> tuple[dict[str, list[Scenario]], dict[str, str]]:
    """Each function's scenarios with their recorded AWS calls, and the functions' environment; on moto."""
    from moto import mock_aws

    from bench.aws_calls import fake_aws_environment

    fake_aws_environment()
    scenarios: dict[str, list[Scenario]] = {WORKER: [], PREDICT: []}
    with mock_aws(), open(os.devnull, "w", encoding="utf-8") as sink, redirect_stdout(sink):  # logs made here
        from bench.fake_aws import recording
        from bench.worker_throughput import WorkerStack
        from shared.ratelimit.service import BURST_SHARE
        from tools.lambda_runtime import context_for, load_handler

        small = str(2 * BURST_SHARE - 1)  # one rate-limit write per limit at every request: the same calls each time
        limits = {"RATE_LIMIT_BURST": small, "TENANT_RATE_LIMIT_BURST": small}
        stack = WorkerStack(**limits, BUILTIN_MODELS_DIR=str(models_dir))
        spec = load_template().function(PREDICT)
        predict, context = load_handler(spec), context_for(spec)
        for model in models:
            stack.run(None, stack.event_of(model, [_worker_input(model, i) for i in range(10)]))  # warm-up
            for size in WORKER_BATCHES:
                event = stack.event_of(model, [_worker_input(model, index) for index in range(size)])
                with recording() as calls:
                    stack.run(None, event)
                scenarios[WORKER].append(Scenario(f"{model}, batch of {size}", size, event, list(calls)))
            event = _predict_event(model)
            for _ in range(2):  # warm-up, then recorded
                with recording() as calls:
                    response = predict(copy.deepcopy(event), context)
                if response["statusCode"] != 200:
                    raise RuntimeError(f"predict {model}: {response['statusCode']} {response['body']}")
            scenarios[PREDICT].append(Scenario(model, 1, event, list(calls)))
        environment = dict(os.environ)
    return scenarios, environment


# ---------------------------------------------------------------- the child: one function under the quota


def _peak_rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def run_child(job: Job) -> dict[str, Any]:
    """Import the function, warm it up on the recorded answers, join the cgroup, time every size."""
    from bench.latency import LatencyModel
    from tools.lambda_runtime import LocalContext

    os.environ.update(job.environment)
    handler = getattr(import_module(job.module), job.handler)
    latency = configured() or LatencyModel(seed=job.seed)

    def invoke(scenario: Scenario, replay: Replay) -> float:
        event = copy.deepcopy(scenario.event)  # outside the clock
        context = LocalContext(job.function, job.timeout)
        with replay.installed():
            began = time.perf_counter()
            response = handler(event, context)
            seconds = time.perf_counter() - began
            replay.rewind()
        if response != {"batchItemFailures": []} and response.get("statusCode") != 200:
            raise RuntimeError(f"{job.function} {scenario.name}: {response}")
        return seconds

    for scenario in job.scenarios:  # warm: runtimes built, clients made
        invoke(scenario, Replay(scenario.calls))
    group = Path(job.cgroup)
    (group / "cgroup.procs").write_text(str(os.getpid()), encoding="ascii")  # every thread of this process
    times: dict[tuple[int, str], list[float]] = {(size, s.name): [] for size in job.sizes for s in job.scenarios}
    replays = {  # the same delays at every size: a sequence per (size, scenario), started again each round
        (size, s.name): Replay(s.calls, latency.fork(latency.seed ^ zlib.crc32(s.name.encode())))
        for size in job.sizes
        for s in job.scenarios
    }
    for number in range(job.rounds):
        turn = number % len(job.sizes)
        order = [*job.sizes[turn:], *job.sizes[:turn]]
        for size in order if number % 2 == 0 else order[::-1]:
            (group / "cpu.cfs_quota_us").write_text(str(cpu_quota_us(size)), encoding="ascii")
            for scenario in job.scenarios:
                replay = replays[(size, scenario.name)]
                times[(size, scenario.name)] += [invoke(scenario, replay) for _ in range(job.invocations)]
    (group / "cpu.cfs_quota_us").write_text("-1", encoding="ascii")
    return {
        "peak_rss_mib": _peak_rss_mib(),
        "times": [[size, name, seconds] for (size, name), seconds in times.items()],
    }


def measure_function(job: Job, folder: Path) -> dict[str, Any]:
    """``job`` in a child interpreter (this process stays out of the cgroup); its figures."""
    job_file, out = folder / f"{job.function}.pickle", folder / f"{job.function}.json"
    job_file.write_bytes(pickle.dumps(job))
    command = [sys.executable, "-m", "bench.memory_size", "--child", str(job_file), "--child-out", str(out)]
    child = subprocess.Popen(command, cwd=ROOT, env=job.environment)
    try:
        if child.wait() != 0:
            raise RuntimeError(f"the {job.function} child failed (exit status {child.returncode})")
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    figures: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return figures


# ---------------------------------------------------------------- figures


@dataclass(frozen=True)
class Row:
    function: str
    scenario: str
    predictions: int
    memory_mb: int
    p50_ms: float
    p99_ms: float
    gb_seconds: float  # billed per invocation
    dollars_per_million: float  # per million predictions (the worker: an invocation holds ``predictions``)
    peak_rss_mib: float
    refused: bool  # the size cannot hold the process

    def figures(self) -> SizeFigures:
        return SizeFigures(self.memory_mb, self.p50_ms, self.p99_ms, self.gb_seconds)


def rows_of(function: str, scenarios: Sequence[Scenario], measured: Mapping[str, Any]) -> list[Row]:
    rss = float(measured["peak_rss_mib"])
    predictions = {scenario.name: scenario.size for scenario in scenarios}
    rows = []
    for size, name, seconds in measured["times"]:
        billed = statistics.fmean(billed_gb_seconds(each, size) for each in seconds)
        rows.append(
            Row(
                function,
                name,
                predictions[name],
                size,
                percentile(seconds, 0.5) * 1000,
                percentile(seconds, 0.99) * 1000,
                billed,
                per_million(billed, predictions[name]),
                rss,
                size < least_memory_mb(rss),
            )
        )
    order = {scenario.name: index for index, scenario in enumerate(scenarios)}
    return sorted(rows, key=lambda row: (order[row.scenario], row.memory_mb))


@dataclass(frozen=True)
class Choice:
    function: str
    scenario: str  # "" for the function's choice over all its scenarios
    memory_mb: int
    best_p50_ms: float
    p50_ms: float


def choices(rows: Sequence[Row], tolerance: float = TOLERANCE) -> list[Choice]:
    found = []
    for function in dict.fromkeys(row.function for row in rows):
        mine = [row for row in rows if row.function == function and not row.refused]
        scenarios = list(dict.fromkeys(row.scenario for row in mine))
        per_scenario = [[row.figures() for row in mine if row.scenario == name] for name in scenarios]
        for name, figures in zip(scenarios, per_scenario, strict=True):
            picked = cheapest_within(figures, tolerance)
            best = min(row.p50_ms for row in figures)
            found.append(Choice(function, name, picked.memory_mb, best, picked.p50_ms))
        size = function_choice(per_scenario, tolerance)
        worst = max(
            (row.p50_ms / min(f.p50_ms for f in figures), row.p50_ms)
            for figures in per_scenario
            for row in figures
            if row.memory_mb == size
        )
        found.append(Choice(function, "", size, worst[1] / worst[0], worst[1]))
    return found


def table(rows: Sequence[Row], picked: Sequence[Choice]) -> str:
    marks = {(c.function, c.scenario, c.memory_mb) for c in picked if c.scenario}
    lines = [
        "| function | scenario | MemorySize MB | vCPU | p50 ms | p99 ms | x best p50 | GB-s per invocation "
        "| $ per 1M predictions | |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        best = min(r.p50_ms for r in rows if (r.function, r.scenario) == (row.function, row.scenario) and not r.refused)
        note = (
            "refused: RSS"
            if row.refused
            else ("**cheapest within 10 %**" if (row.function, row.scenario, row.memory_mb) in marks else "")
        )
        lines.append(
            f"| {row.function} | {row.scenario} | {row.memory_mb:,} | {vcpus(row.memory_mb):.2f} | {row.p50_ms:.1f} "
            f"| {row.p99_ms:.1f} | {row.p50_ms / best:.2f} | {row.gb_seconds:.6f} | ${row.dollars_per_million:.3f} "
            f"| {note} |"
        )
    return "\n".join(lines)


def summary(rows: Sequence[Row], picked: Sequence[Choice]) -> str:
    lines = [
        "| function | peak RSS MiB | least size that holds it MB | chosen MB (all scenarios) | p50 at it, x best |"
    ]
    lines.append("|---|---:|---:|---:|---:|")
    for choice in picked:
        if choice.scenario:
            continue
        rss = next(row.peak_rss_mib for row in rows if row.function == choice.function)
        lines.append(
            f"| {choice.function} | {rss:.0f} | {least_memory_mb(rss):,} | {choice.memory_mb:,} "
            f"| {choice.p50_ms / choice.best_p50_ms:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=list(CANDIDATES), help="memory sizes, MB")
    parser.add_argument(
        "--models", nargs="*", choices=[*MODELS, EMBEDDING_MODEL], default=list(MODELS), help="models to serve"
    )
    parser.add_argument("--models-dir", type=Path, help=f"the folder holding {EMBEDDING_MODEL}/ (default: make dev's)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over every size (in rotating order)")
    parser.add_argument("--invocations", type=int, default=10, help="invocations per scenario per size per round")
    parser.add_argument("--tolerance", type=float, default=TOLERANCE, help="how far above the best median is within")
    parser.add_argument("--json", type=Path, help="also write the key figures to this file (for `python -m bench`)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message="No application metrics to publish")  # Powertools, per invocation
    if args.child:
        job: Job = pickle.loads(args.child.read_bytes())  # noqa: S301 - written by our parent a moment ago
        with open(os.devnull, "w", encoding="utf-8") as sink, redirect_stdout(sink):  # logs and EMF metrics
            figures = run_child(job)
        args.child_out.write_text(json.dumps(figures), encoding="utf-8")
        return
    latency = configured()
    if latency is None:
        sys.exit(
            "bench.memory_size needs the AWS latency model (INFERGATE_BENCH_LATENCY is off): without it a "
            "function waits for nothing and every size looks CPU-bound"
        )
    if args.models_dir is None:
        from tools.devstack import MODELS_DIR  # INFERGATE_DEV_MODELS_DIR or .aws-sam/models

        args.models_dir = Path(MODELS_DIR)
    if EMBEDDING_MODEL in args.models and not (args.models_dir / EMBEDDING_MODEL).is_dir():
        sys.exit(f"no built {EMBEDDING_MODEL} in {args.models_dir}: run `make embedding-model` (or pass --models-dir)")
    cpus = len(os.sched_getaffinity(0))
    sizes, dropped = emulable(sorted(set(args.sizes)), cpus)
    try:
        with cpu_cgroup() as group, tempfile.TemporaryDirectory(prefix="infergate-bench-memory-") as folder:
            sys.stderr.write("recording the scenarios on moto\n")
            scenarios, environment = record(args.models, args.models_dir)
            environment.pop("POWERTOOLS_METRICS_DISABLED", None)  # as deployed: EMF metrics on (to /dev/null)
            rows: list[Row] = []
            for function in (WORKER, PREDICT):
                spec = load_template().function(function)
                job = Job(
                    function,
                    spec.module,
                    spec.handler_name,
                    spec.timeout,
                    environment,
                    scenarios[function],
                    sizes,
                    args.rounds,
                    args.invocations,
                    str(group),
                    latency.seed,
                )
                sys.stderr.write(f"{function}: {len(sizes)} sizes x {len(job.scenarios)} scenarios\n")
                rows += rows_of(function, job.scenarios, measure_function(job, Path(folder)))
    except CgroupUnavailableError as error:
        sys.exit(f"bench.memory_size: {error}")
    picked = choices(rows, args.tolerance)
    print(  # noqa: T201
        f"\nMemory sizes under Lambda's CPU share (CFS quota, {CFS_PERIOD_US // 1000} ms period; this machine: "
        f"{cpus} CPUs, so at most {cpus * LAMBDA_VCPU_MB:,} MB"
        + (f"; left out: {', '.join(map(str, dropped))} MB" if dropped else "")
        + f"), AWS latency model seed {latency.seed}: {args.rounds} rounds x {args.invocations} invocations "
        "per scenario and size\n"
    )
    print(table(rows, picked))  # noqa: T201
    print()  # noqa: T201
    print(summary(rows, picked))  # noqa: T201
    if args.json:
        out = {
            "cpus": cpus,
            "left_out_mb": dropped,
            "tolerance": args.tolerance,
            "rows": [asdict(row) for row in rows],
            "choices": {
                choice.function: {
                    "memory_mb": choice.memory_mb,
                    "template_mb": load_template().function(choice.function).memory_size,
                    "x_best": choice.p50_ms / choice.best_p50_ms,
                    "peak_rss_mib": next(r.peak_rss_mib for r in rows if r.function == choice.function),
                }
                for choice in picked
                if not choice.scenario
            },
        }
        args.json.write_text(json.dumps(out), encoding="utf-8")


if __name__ == "__main__":
    main()
