"""What tracing costs: import (cold start) time, package size and per-invocation work of each option.

    .venv/bin/python -m bench.tracing_cost [--runs 9] [--invocations 200] [--no-xray] [--json out.json]

Import time: each sample is a fresh interpreter (this venv's) that imports ``CreatePredictionFunction``'s
module and builds its handler, timed inside from its first line (interpreter start-up is the same for every
variant and left out); the median of ``--runs``, and its ratio to the tracing-off import of the same run:

- off: the template's default (``TRACING`` unset): no tracing library is loaded;
- OpenTelemetry SDK, ours (``TRACING=On``): the SDK, the OTLP/HTTP exporter and a provider, as deployed;
- X-Ray SDK through Powertools' ``Tracer`` (which is built on it), patching botocore: ``aws-xray-sdk``
  (pinned below) is installed into a temporary folder for the measurement, never into the project.

Package size: the TracingLayer as the layers Makefile builds it (arm64 wheels from the lock, CPython 3.12
bytecode), and the X-Ray SDK with its one dependency beyond botocore (``wrapt``) for the same platform,
unzipped and zipped. The ADOT Lambda layer cannot be fetched here (it is published as a Lambda layer ARN,
not a package): not measured.

Per invocation (in this process): the spans of one create (a server span, five AWS-call spans) made and
exported in one OTLP/HTTP request to a receiver on loopback, median of ``--invocations``; and what the same
calls cost with tracing off (no-ops).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tools.sam_build import tree_size, zipped_size
from tools.template import ROOT

XRAY_SDK = "aws-xray-sdk==2.15.0"
WRAPT = "wrapt==1.17.3"
MODULE = "functions.create_prediction.app"
ENVIRONMENT = {
    "TABLE_NAME": "bench-table",
    "PREDICTIONS_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/bench",
    "WEBHOOKS_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/bench-webhooks",
    "CURSOR_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "POWERTOOLS_METRICS_DISABLED": "true",
}
DRIVER = """
import time
began = time.perf_counter()
import importlib, sys
importlib.import_module(sys.argv[1])
if sys.argv[2] == "xray":
    from aws_lambda_powertools import Tracer
    Tracer(service="infergate")  # auto_patch: botocore, as a traced function would
print(time.perf_counter() - began)
"""
PIP_PLATFORM = [
    "--platform",
    "manylinux2014_aarch64",
    "--platform",
    "manylinux_2_28_aarch64",
    "--implementation",
    "cp",
    "--python-version",
    "3.12",
    "--only-binary=:all:",
]


def import_seconds(variant: str, runs: int, extra_path: str | None) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_", "TRACING"))}
    env |= ENVIRONMENT
    if variant == "otel":
        env |= {"TRACING": "On", "TRACING_ENDPOINT": "http://127.0.0.1:9/v1/traces"}
    if extra_path:
        env["PYTHONPATH"] = extra_path
    samples = []
    for _ in range(runs):
        completed = subprocess.run(
            [sys.executable, "-c", DRIVER, MODULE, variant],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        samples.append(float(completed.stdout.strip().splitlines()[-1]))
    return statistics.median(samples)


def pip_install(target: Path, *requirements: str, platform: bool) -> None:
    pip = ROOT / ".tools" / "bin" / "pip"
    command = [str(pip), "install", "--quiet", "--disable-pip-version-check", "--no-deps", "--target", str(target)]
    subprocess.run([*command, *(PIP_PLATFORM if platform else []), *requirements], check=True, timeout=600)


def tracing_layer(folder: Path) -> Path:
    """The TracingLayer as ``sam build`` makes it (layers/Makefile, deployment architecture)."""
    subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT / "layers"), "build-TracingLayer", f"ARTIFACTS_DIR={folder}"],
        check=True,
        capture_output=True,
        timeout=900,
    )
    return folder


@contextmanager
def receiver() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", "0")))
            self.send_response(200)
            self.send_header("content-type", "application/x-protobuf")
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/traces"
    finally:
        server.shutdown()


def one_create(tracing: Any) -> None:
    with tracing.server_span("POST /v1/predictions", {"faas.name": "CreatePredictionFunction"}) as status:
        tracing.annotate({tracing.TENANT: "t", tracing.MODEL: "sentiment", tracing.MODEL_VERSION: 1})
        for operation in ("GetItem", "UpdateItem", "Query", "PutItem", "SendMessage"):
            started = tracing.start(f"AWS.{operation}", {"rpc.system": "aws-api", "rpc.method": operation})
            if started is not None:
                started.end({"http.response.status_code": 200})
        tracing.carrier()
        status(201)
    tracing.flush()


def per_invocation_seconds(invocations: int) -> tuple[float, float]:
    from shared.adapters.tracing import start
    from shared.kernel import tracing

    off = []
    for _ in range(invocations):
        began = time.perf_counter()
        one_create(tracing)
        off.append(time.perf_counter() - began)
    on = []
    with receiver() as url:
        start(url)
        try:
            one_create(tracing)  # the exporter's first connection
            for _ in range(invocations):
                began = time.perf_counter()
                one_create(tracing)
                on.append(time.perf_counter() - began)
        finally:
            tracing.disable()
    return statistics.median(off), statistics.median(on)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--invocations", type=int, default=200)
    parser.add_argument("--no-xray", action="store_true", help="skip the X-Ray SDK (it is fetched from PyPI)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="tracing-cost-") as temporary:
        folder = Path(temporary)
        xray_host = None
        if not args.no_xray:
            xray_host = folder / "xray-host"
            pip_install(xray_host, XRAY_SDK, WRAPT, platform=False)
            xray_layer = folder / "xray-layer" / "python"
            pip_install(xray_layer, XRAY_SDK, WRAPT, platform=True)
            figures["xray_size"] = [tree_size(xray_layer.parent), zipped_size(xray_layer.parent)]
        layer = tracing_layer(folder / "tracing-layer")
        figures["otel_size"] = [tree_size(layer), zipped_size(layer)]
        # interleaved variants would share the same disturbances; the runs are short, so one after the other
        figures["import_off"] = import_seconds("off", args.runs, None)
        figures["import_otel"] = import_seconds("otel", args.runs, None)
        if xray_host is not None:
            figures["import_xray"] = import_seconds("xray", args.runs, str(xray_host))
    figures["invocation_off"], figures["invocation_otel"] = per_invocation_seconds(args.invocations)
    print(table(figures, args.runs, args.invocations))  # noqa: T201
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")


def table(figures: dict[str, Any], runs: int, invocations: int) -> str:
    off = figures["import_off"]
    mib = 1024 * 1024

    def size(key: str) -> str:
        if key not in figures:
            return "not measured | not measured"
        unzipped, zipped = figures[key]
        return f"{unzipped / mib:.2f} MiB | {zipped / mib:.2f} MiB"

    def imported(key: str) -> str:
        if key not in figures:
            return "not measured | -"
        return f"{figures[key] * 1000:.0f} ms | {figures[key] / off:.2f}x"

    rows = [
        f"Import of {MODULE} + handler, median of {runs} fresh interpreters (CPython {sys.version.split()[0]}); "
        f"per invocation: median of {invocations}",
        "",
        "| Option | Import + init | vs off | Layer unzipped | Layer zipped | Per invocation |",
        "|---|---|---|---|---|---|",
        f"| Tracing off (default) | {imported('import_off')} | none | none | "
        f"{figures['invocation_off'] * 1e6:.1f} µs (no-op calls) |",
        f"| OpenTelemetry SDK + OTLP/HTTP, TracingLayer (ours) | {imported('import_otel')} | {size('otel_size')} | "
        f"{figures['invocation_otel'] * 1e6:.0f} µs (6 spans, one export to loopback) |",
        f"| X-Ray SDK via Powertools Tracer ({XRAY_SDK}) | {imported('import_xray')} | {size('xray_size')} | "
        "not measured |",
        "| ADOT Lambda layer (collector extension + auto-instrumentation) | not measured | - | not measured | "
        "not measured | not measured |",
    ]
    return "\n".join(rows)


if __name__ == "__main__":
    main()
