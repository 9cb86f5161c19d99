"""Synchronous predict latency over the local stack (warm), and the inference function's cold import.

    .venv/bin/python -m bench.sync_predict [--requests 300]

Starts the local stack exactly as `make dev` does, warms each model up, then times sequential
`POST /v1/models/{name}/predict` calls from this process. `GET /v1/health` through the same stack is
the baseline (the HTTP, ASGI and Lambda-adapter floor), so the ratios show what inference adds.
Cold import: a fresh interpreter importing the function's module, median of 10, against a fresh
interpreter importing only boto3 and pydantic (the floor of any of our functions).
"""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
ADMIN_KEY = "igk_benchadminkey00000000000000000000000"
INPUTS = {
    "echo": {"text": "Infergate makes serving models easy!"},
    "sentiment": {"text": "Infergate makes serving models easy!"},
    "iris": {"features": [5.1, 3.5, 1.4, 0.2]},
}


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _time_calls(client: httpx.Client, method: str, path: str, body: object, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        began = time.perf_counter()
        response = client.request(method, path, json=body)
        samples.append(time.perf_counter() - began)
        response.raise_for_status()
    return samples


def _cold_import(statement: str, runs: int = 10) -> float:
    env = {**os.environ, "POWERTOOLS_METRICS_DISABLED": "true", "AWS_DEFAULT_REGION": "us-east-1"}
    durations = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-c", statement], cwd=ROOT, env=env, check=True)
        durations.append(time.perf_counter() - began)
    return statistics.median(durations)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    port = _free_port()
    state = Path(tempfile.mkdtemp()) / "state.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {"PORT": str(port), "INFERGATE_DEV_ADMIN_KEY": ADMIN_KEY, "INFERGATE_DEV_STATE_FILE": str(state)}
    stack = subprocess.Popen(
        [sys.executable, "-m", "tools.devstack"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.2)
        rows = []
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=30) as client:
            baseline = _time_calls(client, "GET", "/v1/health", None, 20)  # warm-up
            baseline = _time_calls(client, "GET", "/v1/health", None, args.requests)
            rows.append(("GET /v1/health (baseline)", baseline))
            for model, payload in INPUTS.items():
                path = f"/v1/models/{model}/predict"
                _time_calls(client, "POST", path, {"input": payload}, 20)  # loads the model: warm from here on
                rows.append((f"predict {model}", _time_calls(client, "POST", path, {"input": payload}, args.requests)))
    finally:
        stack.send_signal(signal.SIGINT)
        stack.wait(timeout=30)
    floor = _cold_import("import boto3, pydantic")
    cold = _cold_import("import functions.predict_model.app")
    base_p50 = _percentile(baseline, 0.5)
    out = sys.stdout
    out.write(f"\nSync predict over the local stack, {args.requests} sequential warm requests each\n")
    out.write(f"{'request':<28}{'p50 ms':>10}{'p99 ms':>10}{'p50 / baseline':>18}\n")
    for name, samples in rows:
        p50, p99 = _percentile(samples, 0.5) * 1000, _percentile(samples, 0.99) * 1000
        out.write(f"{name:<28}{p50:>10.2f}{p99:>10.2f}{p50 / (base_p50 * 1000):>18.2f}\n")
    out.write("\nCold import in a fresh interpreter (median of 10)\n")
    out.write(f"{'import':<40}{'seconds':>10}{'ratio':>10}\n")
    out.write(f"{'boto3 + pydantic (floor)':<40}{floor:>10.3f}{1.0:>10.2f}\n")
    out.write(f"{'functions.predict_model.app':<40}{cold:>10.3f}{cold / floor:>10.2f}\n")


if __name__ == "__main__":
    main()
