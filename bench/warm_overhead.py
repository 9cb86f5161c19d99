"""Warm overhead per request of every API function, against the floor, with AWS answered from memory.

    .venv/bin/python -m bench.warm_overhead [--invocations 10000] [--only GetPredictionFunction ...]

Per API function, in this one process: its handler serves its committed ``events/`` event once on
moto (warm-up), once more while every AWS call is recorded (``bench/fake_aws.py``), then
``--invocations`` times with those calls answered instantly from the recording. The floor is a bare
handler making the same recorded AWS calls through boto3 clients and answering with a pydantic model
(the least any function could do for that request), replayed the same way; both run in alternating
rounds so noise hits both. Overhead = median time per invocation of the function minus the floor's:
what our framework and code add to a request beyond its AWS calls. Target (issue 7): ≤ 0.3 ms.

The events carry the example admin key (seeded); nothing else is seeded, so an event naming a
prediction, batch or model that does not exist is served as its 404 (a complete request: auth, rate
limit, lookup, problem document); the status column says which. The rate limiter runs its quiet-key
path, one conditional write per request (a burst under twice ``BURST_SHARE`` keeps leases at one token): the
worst case, and the same calls at every invocation, as the replay needs.

Also measured: one ``async def`` against one ``def`` FastAPI route under Mangum (the thread-pool hop
that FastAPI makes for ``def`` routes).

With AWS latency (issue 20; ``bench/latency.py``, on unless ``INFERGATE_BENCH_LATENCY=off``): each
function then serves ``--latency-invocations`` more requests with the same recorded answers held back by
the model's delays, and a second table gives per route the p50 and p99 handler time and the billed
GB-seconds per request at the function's ``MemorySize`` (each invocation rounded up to the millisecond),
with AWS answering at once (from the timed rounds above) and with the model, side by side.
"""

import argparse
import base64
import copy
import gc
import json
import os
import statistics
import sys
import time
import zlib
from collections.abc import Callable
from contextlib import redirect_stdout, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore import xform_name
from moto import mock_aws
from pydantic import BaseModel

from bench.aws_calls import fake_aws_environment
from bench.fake_aws import RecordedCall, Replay, recording
from bench.latency import LatencyModel, billed_gb_seconds, configured, percentile
from bench.stack import provision_stack
from tools.template import ROOT, FunctionSpec, load_template

Handler = Callable[[dict[str, Any], Any], Any]
TARGET_MS = 0.3


@dataclass(frozen=True)
class Latencies:
    """One function's handler time per request: p50 and p99, and the mean billed GB-seconds per request."""

    p50_ms: float
    p99_ms: float
    gb_seconds: float

    @classmethod
    def of(cls, seconds: list[float], memory_mb: int) -> "Latencies":
        billed = statistics.fmean(billed_gb_seconds(each, memory_mb) for each in seconds)
        return cls(percentile(seconds, 0.5) * 1000, percentile(seconds, 0.99) * 1000, billed)


@dataclass(frozen=True)
class Row:
    name: str
    status: int
    aws_calls: int
    function_ms: float
    floor_ms: float
    memory_mb: int = 0
    instant: Latencies | None = None  # AWS answering at once (the timed rounds)
    modelled: Latencies | None = None  # AWS answering after the latency model's delays

    @property
    def overhead_ms(self) -> float:
        return self.function_ms - self.floor_ms


class _Answer(BaseModel):
    calls: int
    body: dict[str, Any] | None


def floor_handler(calls: list[RecordedCall], clients: dict[str, Any]) -> Handler:
    """The recorded calls made straight through boto3, the body parsed and the answer built by pydantic."""
    steps = [(getattr(clients[call.service], xform_name(call.operation)), call.params) for call in calls]

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        body = _body(event)
        for method, params in steps:
            with suppress(Exception):  # a recorded ClientError: a 404 lookup, a lost condition
                method(**params)
        return {"statusCode": 200, "body": _Answer(calls=len(steps), body=body).model_dump_json()}

    return handler


def _body(event: dict[str, Any]) -> dict[str, Any] | None:
    """A JSON body parsed; a binary one (a multipart upload part) decoded and counted."""
    if not event.get("body"):
        return None
    if event.get("isBase64Encoded"):
        return {"bytes": len(base64.b64decode(event["body"]))}
    parsed: dict[str, Any] = json.loads(event["body"])
    return parsed


def timed_rounds(
    subjects: dict[str, tuple[Handler, Replay]], event: dict[str, Any], invocations: int, context: Any, rounds: int = 10
) -> dict[str, list[float]]:
    """Seconds per invocation of each subject, in alternating rounds; events are copied outside the timer."""
    times: dict[str, list[float]] = {name: [] for name in subjects}
    per_round = max(1, invocations // rounds)
    for _ in range(rounds):
        for name, (handler, replay) in subjects.items():
            events = [copy.deepcopy(event) for _ in range(per_round)]
            spent = times[name]
            with replay.installed():
                for each in events:
                    began = time.perf_counter()
                    handler(each, context)
                    spent.append(time.perf_counter() - began)
                    replay.rewind()
    return times


def measure_function(
    spec: FunctionSpec,
    invocations: int,
    clients: dict[str, Any],
    latency: LatencyModel | None = None,
    latency_invocations: int = 0,
) -> Row:
    from tools.lambda_runtime import context_for, load_handler

    event = json.loads((ROOT / "events" / f"{spec.folder}.json").read_text(encoding="utf-8"))
    handler = load_handler(spec)
    context = context_for(spec)
    handler(copy.deepcopy(event), context)  # warm-up on moto: lazy clients, first-request work
    with recording() as calls:
        response = handler(copy.deepcopy(event), context)
    recorded = copy.deepcopy(calls)
    replay = Replay(calls)
    floor = floor_handler(calls, clients)
    times = timed_rounds({"function": (handler, replay), "floor": (floor, Replay(calls))}, event, invocations, context)
    modelled = None
    if latency is not None and latency_invocations:
        # Its own sequence of delays per function: the same draws whichever functions run, in any order.
        slowed = Replay(calls, latency.fork(latency.seed ^ zlib.crc32(spec.logical_id.encode())))
        rounds = min(10, latency_invocations)
        seconds = timed_rounds({"function": (handler, slowed)}, event, latency_invocations, context, rounds)
        modelled = Latencies.of(seconds["function"], spec.memory_size)
    if [call.response for call in calls] != [call.response for call in recorded]:
        raise RuntimeError(f"{spec.logical_id} mutated the answers it was given: the replay is not valid")
    return Row(
        spec.logical_id,
        int(response.get("statusCode", 0)),
        len(calls),
        statistics.median(times["function"]) * 1000,
        statistics.median(times["floor"]) * 1000,
        spec.memory_size,
        Latencies.of(times["function"], spec.memory_size),
        modelled,
    )


def measure_route_kinds(invocations: int) -> list[Row]:
    """The same trivial route as ``async def`` and as ``def`` under Mangum; no AWS calls."""
    from fastapi import FastAPI
    from mangum import Mangum

    app = FastAPI()

    @app.get("/async")
    async def async_route() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/sync")
    def sync_route() -> dict[str, bool]:
        return {"ok": True}

    adapter = Mangum(app, lifespan="off")
    base = json.loads((ROOT / "events" / "get_health.json").read_text(encoding="utf-8"))
    rows = []
    for path in ("/async", "/sync"):
        event = {**base, "rawPath": path, "routeKey": f"GET {path}"}
        event["requestContext"] = {**base["requestContext"], "http": {**base["requestContext"]["http"], "path": path}}
        handler: Handler = adapter  # Mangum's context argument is typed; these routes never read it
        handler(copy.deepcopy(event), None)
        times = timed_rounds({"route": (handler, Replay([]))}, event, invocations, None)
        kind = "async def" if path == "/async" else "def"
        rows.append(Row(f"FastAPI + Mangum, one `{kind}` route", 200, 0, statistics.median(times["route"]) * 1000, 0.0))
    return rows


def run(
    invocations: int, only: list[str] | None, latency: LatencyModel | None = None, latency_invocations: int = 0
) -> list[Row]:
    from shared.ratelimit.service import BURST_SHARE
    from tools.invoke import seed_bearer_key

    template = load_template()
    # A burst too small for leases of more than one token, for the key and for its tenant: one rate-limit write
    # of each at every request (a lease would make the recorded calls differ from the replayed ones).
    small = str(2 * BURST_SHARE - 1)
    provision_stack("bench-warm", RATE_LIMIT_BURST=small, TENANT_RATE_LIMIT_BURST=small)
    seed_bearer_key(json.loads((ROOT / "events" / "create_prediction.json").read_text(encoding="utf-8")))
    clients = {service: boto3.client(service) for service in ("dynamodb", "sqs", "s3", "secretsmanager", "lambda")}
    rows = []
    for spec in template.functions:
        if not spec.routes or (only and spec.logical_id not in only):
            continue
        gc.collect()
        rows.append(measure_function(spec, invocations, clients, latency, latency_invocations))
        row = rows[-1]
        modelled = f", p50 {row.modelled.p50_ms:.1f} ms with AWS latency" if row.modelled else ""
        sys.stderr.write(f"{spec.logical_id}: {row.function_ms:.3f} ms, floor {row.floor_ms:.3f} ms{modelled}\n")
    return rows


def table(rows: list[Row], kinds: list[Row]) -> str:
    lines = [
        "| function | status | AWS calls | function ms | floor ms | overhead ms | ≤ 0.3 ms |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        met = "yes" if row.overhead_ms <= TARGET_MS else "no"
        lines.append(
            f"| {row.name} | {row.status} | {row.aws_calls} | {row.function_ms:.3f} | {row.floor_ms:.3f} "
            f"| {row.overhead_ms:.3f} | {met} |"
        )
    lines += ["", "| route kind under Mangum | ms per request |", "|---|---:|"]
    lines += [f"| {row.name} | {row.function_ms:.3f} |" for row in kinds]
    return "\n".join(lines)


def latency_table(rows: list[Row]) -> str:
    """Per route: handler p50/p99 and billed GB-seconds per request, AWS at once against the latency model."""
    lines = [
        "| function | MemorySize MB | AWS calls "
        "| p50 ms, AWS at once | p99 ms, AWS at once | GB-s/request, AWS at once "
        "| p50 ms, latency model | p99 ms, latency model | GB-s/request, latency model | p50 ratio | GB-s ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        if row.instant is None or row.modelled is None:
            continue
        at_once, modelled = row.instant, row.modelled
        lines.append(
            f"| {row.name} | {row.memory_mb} | {row.aws_calls} | {at_once.p50_ms:.3f} | {at_once.p99_ms:.3f} "
            f"| {at_once.gb_seconds:.6f} | {modelled.p50_ms:.1f} | {modelled.p99_ms:.1f} | {modelled.gb_seconds:.6f} "
            f"| {modelled.p50_ms / at_once.p50_ms:.0f}x | {modelled.gb_seconds / at_once.gb_seconds:.1f}x |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invocations", type=int, default=10_000)
    parser.add_argument("--only", nargs="*", default=None, help="logical ids of the functions to measure")
    parser.add_argument(
        "--latency-invocations", type=int, default=100, help="invocations per function with the AWS latency model"
    )
    parser.add_argument("--json", type=Path, help="also write the key figures to this file (for `python -m bench`)")
    args = parser.parse_args()
    fake_aws_environment()
    latency = configured()
    with mock_aws(), open(os.devnull, "w", encoding="utf-8") as sink, redirect_stdout(sink):  # EMF metrics, logs
        rows = run(args.invocations, args.only, latency, args.latency_invocations)
        kinds = measure_route_kinds(args.invocations)
    print(f"\nWarm overhead per request, median of {args.invocations} invocations each\n")  # noqa: T201
    print(table(rows, kinds))  # noqa: T201
    if latency is not None and args.latency_invocations:
        print(  # noqa: T201
            f"\nPer request with AWS latency (bench/latency.py, seed {latency.seed}): {args.latency_invocations} "
            f"invocations with the model against the {args.invocations} above with AWS answering at once\n"
        )
        print(latency_table(rows))  # noqa: T201
    if args.json:
        figures: dict[str, Any] = {
            "functions": {row.name: row.overhead_ms for row in rows},
            "kinds": {r.name: r.function_ms for r in kinds},
        }
        if latency is not None:
            figures["latency"] = {
                row.name: {"at_once": vars(row.instant), "modelled": vars(row.modelled)}
                for row in rows
                if row.instant and row.modelled
            }
        args.json.write_text(json.dumps(figures), encoding="utf-8")


if __name__ == "__main__":
    main()
