"""Every benchmark, then one table: issues 7, 16, 17 and 20's targets and figures from what this run measured.

    .venv/bin/python -m bench [--quick]

Each benchmark runs in its own interpreter (they provision moto stacks and set the environment) and
prints its own tables as it goes; each also writes its key figures to a JSON file, from which the
targets table at the end is computed. ``--quick`` runs every benchmark with a fraction of its samples:
to check the harness, not for figures. The package sizes need ``SAM_CLI`` (``make bench`` sets it); the memory
sizes need root and a cgroup v1 ``cpu`` controller (elsewhere that benchmark stops and is counted as failed).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.embeddings import LAMBDA_UNZIPPED_LIMIT, OPENAI_PER_MILLION, TARGET_BATCH, TARGET_OVERHEAD, serving_packages
from tools.iam_audit import AUDIT_DIR_VARIABLE, Decision, read_folder, refusal_report
from tools.template import ROOT, load_template

INFERENCE_FUNCTION = "PredictModelFunction"  # the synchronous inference route (models loaded in the function)
QUIET_KEY_RATE = 0.9  # requests per second: under one a second, the rate limiter's worst case before issue 20
# Issue 20's cost targets, $ per 1M predictions on the AWS latency model's GB-seconds: (figures, label, limit).
COST_TARGETS = (("prediction_cost", "busy key", 5.0), ("prediction_cost_quiet_key", "quiet key", 7.0))

Figures = Mapping[str, Any]


@dataclass(frozen=True)
class Bench:
    name: str  # the figures' key, and the module under bench/
    args: tuple[str, ...]
    quick: tuple[str, ...]
    module: str = ""

    def command(self, quick: bool, json_path: Path) -> list[str]:
        module = self.module or self.name
        args = self.quick if quick else self.args
        return [sys.executable, "-m", f"bench.{module}", *args, "--json", str(json_path)]


BENCHES = (
    # bench.cold_start (the development venv, CPython 3.11) is not run: built_cold_start measures what Lambda
    # runs, beside the same floor and Lambdalith, and judges issue 7's targets too.
    Bench(
        "built_cold_start",
        ("--runs", "2", "--source-runs", "1"),
        ("--runs", "1", "--only", "GetHealthFunction", "ListKeysFunction"),
    ),
    # Sample counts keep the whole run under 20 minutes on two cores (issue 20); each module's defaults are larger.
    Bench(
        "warm_overhead",
        ("--invocations", "3000", "--latency-invocations", "50"),
        ("--invocations", "500", "--latency-invocations", "10"),
    ),
    Bench("worker_throughput", ("--batches", "100"), ("--batches", "20", "--rounds", "4", "--latency-batches", "2")),
    Bench("prediction_cost", (), ("--predictions", "40")),
    Bench(
        "prediction_cost_quiet_key",
        ("--key-rate", str(QUIET_KEY_RATE), "--predictions", "40"),
        ("--key-rate", "5", "--predictions", "10"),
        module="prediction_cost",
    ),
    Bench("batch_cost", (), ("--lines", "200", "--singles", "50")),
    Bench(  # the single calls' wall time is per text, scaled to the batch's 10,000 lines
        "openai_batch", ("--calls", "1000"), ("--lines", "300", "--calls", "300", "--priced-calls", "30")
    ),
    Bench("package_size", (), ()),
    Bench(  # the built-in embedding model too (make bench builds it): the worker's size depends on it
        "memory_size",
        ("--models", "echo", "sentiment", "all-minilm-l6-v2"),
        ("--sizes", "512", "1769", "--rounds", "1", "--invocations", "2"),
    ),
    Bench(  # its package sizes: package_size's figures
        "embeddings",
        ("--no-package-sizes", "--rounds", "2", "--cold-runs", "3"),
        ("--no-package-sizes", "--texts", "32", "--rounds", "1", "--cold-runs", "1"),
    ),
)


@dataclass(frozen=True)
class Target:
    name: str
    measured: str
    met: bool | None  # None: a figure the issue asks for without a target


def targets(figures: Mapping[str, Figures], api_functions: set[str]) -> list[Target]:
    """Issues 7 and 16's targets, judged on one run's figures (a benchmark that did not run is left out)."""
    rows: list[Target] = []
    rows += _built_cold_start_targets(figures.get("built_cold_start"), api_functions)
    if warm := figures.get("warm_overhead"):
        overheads = warm["functions"]
        worst = max(overheads, key=overheads.__getitem__)
        within = sum(1 for ms in overheads.values() if ms <= 0.3)
        measured = f"worst {overheads[worst]:.2f} ms ({worst}); {within} of {len(overheads)} within"
        rows.append(Target("API warm overhead ≤ 0.3 ms above the floor", measured, overheads[worst] <= 0.3))
    if worker := figures.get("worker_throughput"):
        iris = worker["ratios"]["iris"]
        rows.append(Target("iris micro-batched ≥ 3 x one by one", f"{iris:.2f}x", iris >= 3))
    if cost := figures.get("prediction_cost"):
        writes = cost["dynamodb_writes"]
        rows.append(Target("DynamoDB writes per async prediction (no webhook) ≤ 3", f"{writes:.2f}", writes <= 3))
        s3 = cost["s3_requests"]
        rows.append(Target("S3 requests per prediction (output < 256 KiB) = 0", f"{s3:.2f}", s3 == 0))
    for key, label, limit in COST_TARGETS:
        if found := figures.get(key):
            rows.append(_cost_target(found, label, limit))
    rows += _embedding_targets(figures)
    rows += _memory_size_rows(figures.get("memory_size"))
    if found := figures.get("openai_batch"):
        lines = f"{found['lines']:,}-line"
        measured = f"{found['batch_seconds']:.1f} s, {found['wall_ratio']:.2f}x faster than single calls"
        rows.append(Target(f"OpenAI-dialect {lines} embeddings batch, local stack wall time", measured, None))
        measured = (
            f"${found['batch_price']:.4f} (single calls ${found['calls_price']:.4f}; OpenAI Batch API "
            f"${found['openai_batch_price']:.4f} for {found['tokens']:,} tokens)"
        )
        rows.append(Target(f"OpenAI-dialect {lines} embeddings batch, AWS list price", measured, None))
    return rows


def _cost_target(found: Figures, label: str, limit: float) -> Target:
    """Issue 20's: judged on the cost with the AWS latency model's GB-seconds (``per_million_latency``); the
    figure with moto's own time beside it. Without the latency model (``INFERGATE_BENCH_LATENCY=off``) the
    target is not judged."""
    name = f"$ per 1M {found['model']} predictions ≤ {limit:g} ({label}, {found['key_rate']:g} requests/s)"
    writes = f"{found['rate_limit_writes']:.2f} rate-limit writes"
    if "per_million_latency" not in found:
        return Target(name, f"${found['per_million']:.2f} with moto's time ({writes}); latency model off", None)
    modelled = found["per_million_latency"]
    measured = f"${modelled:.2f} with the AWS latency model ({writes}); ${found['per_million']:.2f} with moto's time"
    return Target(name, measured, modelled <= limit)


def _built_cold_start_targets(found: Figures | None, api_functions: set[str]) -> list[Target]:
    """Issue 20's: every API function's cold start from its built package (CPython 3.12, read-only, with the
    layers' bytecode) against the floor measured the same way; the sources-only build beside it."""
    if not found:
        return []
    api = {name: seconds for name, seconds in found["functions"].items() if name in api_functions}
    if not api:
        return []
    floor = found["floor"]
    rows = []
    if "lambdalith" in found:  # issue 7's, on what Lambda runs (the inference function has a target of its own)
        lambdalith, least = found["lambdalith"]["bytecode"], floor["bytecode"]
        others = {name: seconds["bytecode"] for name, seconds in api.items() if name != INFERENCE_FUNCTION}
        worst = max(others, key=others.__getitem__)
        to_lambdalith, to_floor = others[worst] / lambdalith, others[worst] / least
        rows.append(Target("API cold start ≤ 0.6 x Lambdalith", _worst(to_lambdalith, worst), to_lambdalith <= 0.6))
        rows.append(Target("API cold start ≤ 2 x floor", _worst(to_floor, worst), to_floor <= 2))
        if INFERENCE_FUNCTION in api:
            ratio = api[INFERENCE_FUNCTION]["bytecode"] / lambdalith
            rows.append(Target("inference cold start ≤ 0.8 x Lambdalith", f"{ratio:.2f}x", ratio <= 0.8))
    for variant, limit in (("bytecode", 1.5), ("sources", None)):
        ratios = {name: seconds[variant] / floor[variant] for name, seconds in api.items()}
        worst = max(ratios, key=ratios.__getitem__)
        name = f"API cold start from the built package, {variant}, CPython 3.12"
        name += f" ≤ {limit} x floor" if limit else " (x floor, same way)"
        measured = f"{_worst(ratios[worst], worst)}; median {statistics.median(ratios.values()):.2f}x"
        rows.append(Target(name, measured, ratios[worst] <= limit if limit else None))
    if framework := found.get("framework_floor"):
        ratio = framework["bytecode"] / floor["bytecode"]
        name = "FastAPI + Mangum floor from the built package, bytecode (x floor; the framework alone)"
        rows.append(Target(name, f"{ratio:.2f}x", None))
    return rows


def _embedding_targets(figures: Mapping[str, Figures]) -> list[Target]:
    """Issue 16's: the built-in embedding model served against raw tokenizers + onnxruntime, its cold start,
    cost and packages."""
    rows: list[Target] = []
    if found := figures.get("embeddings"):
        ratios = found["ratios"]
        measured = ", ".join(f"{way} {ratio:.2f}x" for way, ratio in ratios.items())
        name = f"embeddings: serving time ≤ {TARGET_OVERHEAD:.2f} x raw tokenizers + onnxruntime (batch {TARGET_BATCH})"
        rows.append(Target(name, measured, max(ratios.values()) <= TARGET_OVERHEAD))
        openai = f"OpenAI text-embedding-3-small ${OPENAI_PER_MILLION}"
        name = f"embeddings: $ per 1M input tokens (worker, batch {TARGET_BATCH}; {openai})"
        rows.append(Target(name, f"${found['per_million_tokens']:.4f} ({found['memory_mb']} MB arm64)", None))
        if cold := found.get("cold_start"):
            measured = f"{cold['first_request'] * 1000:,.0f} ms ({cold['first_request'] / cold['floor']:.1f}x floor)"
            rows.append(Target("embeddings: cold start, first request and model load included", measured, None))
    if sizes := figures.get("package_size"):
        serving = serving_packages(sizes)
        if serving:
            worst = max(serving, key=serving.__getitem__)
            room = (LAMBDA_UNZIPPED_LIMIT - serving[worst]) / 2**20
            measured = f"worst {serving[worst] / 2**20:.2f} MiB ({worst}), {room:.2f} MiB head-room"
            met = serving[worst] <= LAMBDA_UNZIPPED_LIMIT
            rows.append(Target("functions with the embedding model ≤ 250 MiB unzipped", measured, met))
    return rows


def _memory_size_rows(found: Figures | None) -> list[Target]:
    """Issue 20's: each model function's cheapest memory size within 10 % of its best latency (CPU share
    emulated), beside the template's (which also holds the model cache: docs/performance.md)."""
    if not found:
        return []
    rows = []
    for function, choice in found["choices"].items():
        measured = (
            f"{choice['memory_mb']:,} MB ({choice['x_best']:.2f}x the best median; peak RSS "
            f"{choice['peak_rss_mib']:.0f} MiB); template {choice['template_mb']:,} MB"
        )
        name = f"{function}: cheapest memory size within {found['tolerance']:.0%} of the best latency"
        rows.append(Target(name, measured, None))
    return rows


def _worst(ratio: float, name: str) -> str:
    return f"worst {ratio:.2f}x ({name})"


def table(rows: list[Target]) -> str:
    lines = ["| target | measured | met |", "|---|---|---|"]
    verdict = {True: "yes", False: "NO", None: "—"}
    lines += [f"| {row.name} | {row.measured} | {verdict[row.met]} |" for row in rows]
    return "\n".join(lines)


def duration_table(durations: Mapping[str, float]) -> str:
    lines = ["| benchmark | minutes |", "|---|---:|"]
    lines += [f"| {name} | {seconds / 60:.1f} |" for name, seconds in durations.items()]
    lines.append(f"| **total** | **{sum(durations.values()) / 60:.1f}** |")
    return "\n".join(lines)


def refusals_in(folder: Path) -> list[Decision]:
    return [decision for decision in read_folder(folder) if not decision.allowed]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="few samples: checks the harness, not for figures")
    parser.add_argument("--only", nargs="*", choices=[b.name for b in BENCHES], help="run only these benchmarks")
    args = parser.parse_args()
    figures: dict[str, Figures] = {}
    failed: list[str] = []
    durations: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="infergate-bench-") as folder:
        # Every benchmark runs its functions as their own roles, enforced: each IAM decision is kept here.
        audit = Path(folder) / "iam"
        audit.mkdir()
        environment = {**os.environ, AUDIT_DIR_VARIABLE: str(audit)}
        for bench in BENCHES:
            if args.only and bench.name not in args.only:
                continue
            out = Path(folder) / f"{bench.name}.json"
            print(f"\n## {bench.name}", flush=True)  # noqa: T201
            for previous in audit.iterdir():  # the previous benchmark's decisions
                previous.unlink()
            began = time.monotonic()
            completed = subprocess.run(bench.command(args.quick, out), cwd=ROOT, env=environment, check=False)
            durations[bench.name] = time.monotonic() - began
            refused = refusals_in(audit)
            if refused:
                print(refusal_report(refused), flush=True)  # noqa: T201
            if completed.returncode != 0 or refused:
                failed.append(bench.name)
                continue
            figures[bench.name] = json.loads(out.read_text(encoding="utf-8"))
    api_functions = {spec.logical_id for spec in load_template().functions if spec.is_api}
    print("\n## Targets and figures (issues 7, 16, 17 and 20), this run\n")  # noqa: T201
    print(table(targets(figures, api_functions)))  # noqa: T201
    print(f"\n## Durations (make bench must stay under 20 minutes)\n\n{duration_table(durations)}")  # noqa: T201
    if failed:
        sys.exit(f"\nbenchmarks that failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
