"""AWS requests, billable units and list-price cost per async prediction, and per 1 million.

    .venv/bin/python -m bench.prediction_cost [--predictions 200] [--model sentiment] [--key-rate 40]

One lifecycle = the committed sample events through the real handlers, in this process on moto:
``POST /v1/predictions`` (CreatePredictionFunction, API key auth and rate limit included), the worker
on SQS batches of ten (RunPredictionsFunction), then one ``GET /v1/predictions/{id}`` (a poll). Every
AWS call is counted at botocore's client level; Lambda's own SQS polling is added as one receive and
one batch delete per ten messages. Lambda duration is each invocation's in-process wall time (moto
answers the AWS calls here, about as fast as AWS does from inside a region), billed per 1 ms at the
template's memory size. The API requests are paced at ``--key-rate`` per second (one client's key at
80 % of the template's default limit of 50/s: the rate limiter leases a busy key's tokens, about one
write per ten requests); a rate under one a second is a quiet key (before issue 20 each 1 s lease lapsed
before the next request: one rate-limit write per request and per limit; a lease now lives as long as the
limit takes to refill its burst, 2 s at the defaults, so a key at 0.9/s writes once per two requests). The
reference is the issue's: a hosted API at $0.0001 per second, 200 ms of CPU per prediction, i.e. $20 per
million. ``python -m bench`` judges issue 20's targets on the latency-model figure (``per_million_latency``):
≤ $5 for the busy key, ≤ $7 for the quiet one.

With AWS latency (issue 20; ``bench/latency.py``, on unless ``INFERGATE_BENCH_LATENCY=off``) every call a
function makes is answered by moto and then held back by the model's delay for it (``bench.fake_aws.slowed``).
Each invocation is billed twice from the same run: its wall time less the delays slept (moto answering, the
figure as before), and its wall time with moto's answering time and the sleeps replaced by the delays drawn
(our code plus the model's delays; a busy machine's late wake-ups left out).
"""

import argparse
import copy
import io
import json
import time
from collections import Counter
from contextlib import nullcontext, redirect_stdout
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from bench.aws_calls import PRICES, RATE_LIMIT, billable, counting, fake_aws_environment
from bench.fake_aws import AwsTime, slowed
from bench.latency import LatencyModel, billed_gb_seconds, configured
from bench.stack import provision_stack
from tools.template import ROOT, load_template

HOSTED_PER_MILLION = 1e6 * 0.0001 * 0.2
EVENTS = ROOT / "events"


def _event(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


class Pacer:
    """Requests at ``rate`` a second: one that starts late moves the schedule on, so there is never a burst
    to catch up."""

    def __init__(self, rate: float) -> None:
        self._interval = 1 / rate
        self._next = time.monotonic()

    def wait(self) -> None:
        time.sleep(max(0.0, self._next - time.monotonic()))
        self._next = max(self._next, time.monotonic() - self._interval) + self._interval


def run(
    predictions: int, model: str, key_rate: float = 40.0, latency: LatencyModel | None = None
) -> tuple[Counter[str], dict[str, float], dict[str, float], Counter[tuple[str, str]]]:
    """Billable units, GB-seconds by function (moto answering; with ``latency``, the model's delays) and calls."""
    from tools.invoke import seed_bearer_key
    from tools.lambda_runtime import invoke_function
    from tools.sqs_events import lambda_event

    memory = {spec.logical_id: spec.memory_size for spec in load_template().functions}
    stack = provision_stack("bench-prediction")
    create, get = _event("create_prediction"), _event("get_prediction")
    body = json.loads(create["body"])
    if model != body["model"]:
        body = {"model": model, "input": {"echo": {"n": 1}, "iris": {"features": [5.1, 3.5, 1.4, 0.2]}}[model]}
        create["body"] = json.dumps(body)
        create["headers"]["content-length"] = str(len(create["body"]))
    seed_bearer_key(create)
    gb_seconds: dict[str, float] = {}
    with_latency: dict[str, float] = {}

    def timed(function: str, event: dict[str, Any]) -> Any:
        with slowed(latency) if latency is not None else nullcontext(AwsTime()) as spent:
            began = time.perf_counter()
            result = invoke_function(function, event)
            wall = time.perf_counter() - began
        at_once = billed_gb_seconds(spent.without_delays(wall), memory[function])
        gb_seconds[function] = gb_seconds.get(function, 0.0) + at_once
        if latency is not None:
            modelled = billed_gb_seconds(spent.with_model(wall), memory[function])
            with_latency[function] = with_latency.get(function, 0.0) + modelled
        return result

    timed("CreatePredictionFunction", copy.deepcopy(create))  # warm both up: cold starts are issue 7's table 1
    sqs = boto3.client("sqs")
    queue = stack.refs["PredictionsQueue"]
    warm = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, MessageAttributeNames=["All"])["Messages"]
    timed("RunPredictionsFunction", lambda_event([dict(m) for m in warm], stack.arns["PredictionsQueue"], "us-east-1"))
    for message in warm:
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    gb_seconds.clear()
    with_latency.clear()

    ids: list[str] = []
    pacer = Pacer(key_rate)
    with counting(label_rate_limits=True) as calls:
        for _ in range(predictions):
            pacer.wait()
            response = timed("CreatePredictionFunction", copy.deepcopy(create))
            ids.append(json.loads(response["body"])["id"])
    messages: list[dict[str, Any]] = []
    while len(messages) < predictions:
        got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
        messages += [dict(m) for m in got.get("Messages", [])]
    with counting(label_rate_limits=True) as worker_calls:
        for first in range(0, len(messages), 10):
            group = messages[first : first + 10]
            result = timed("RunPredictionsFunction", lambda_event(group, stack.arns["PredictionsQueue"], "us-east-1"))
            assert result == {"batchItemFailures": []}, result
    with counting(label_rate_limits=True) as poll_calls:
        for prediction_id in ids:
            pacer.wait()
            event = copy.deepcopy(get)
            event["pathParameters"]["prediction_id"] = prediction_id
            event["rawPath"] = event["requestContext"]["http"]["path"] = f"/v1/predictions/{prediction_id}"
            response = timed("GetPredictionFunction", event)
            assert json.loads(response["body"])["status"] == "succeeded", response
    calls.update(worker_calls)
    calls.update(poll_calls)
    calls[("sqs", "Lambda poller: receive + batch delete")] += 2 * -(-predictions // 10)
    units = billable(calls)
    units["apigateway"] += 2 * predictions
    units["lambda:request"] += 2 * predictions + -(-predictions // 10)
    return units, dict(gb_seconds), dict(with_latency), calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--predictions", type=int, default=200)
    parser.add_argument("--model", choices=["sentiment", "echo", "iris"], default="sentiment")
    parser.add_argument("--key-rate", type=float, default=40.0, help="API requests per second of the key")
    parser.add_argument("--json", type=Path, help="also write the key figures to this file (for `python -m bench`)")
    args = parser.parse_args()
    fake_aws_environment()
    latency = configured()
    with mock_aws(), redirect_stdout(io.StringIO()):
        units, gb_seconds, with_latency, calls = run(args.predictions, args.model, args.key_rate, latency)
    n = args.predictions
    print(f"\nPer async {args.model} prediction (create + run + one poll), {n} measured, key at {args.key_rate}/s\n")  # noqa: T201
    print("| AWS call | per prediction |\n|---|---:|")  # noqa: T201
    for (service, operation), count in sorted(calls.items()):
        print(f"| {service} {operation} | {count / n:.2f} |")  # noqa: T201
    amounts: dict[str, float] = {**units, "lambda:gb-second": sum(gb_seconds.values())}
    per_million = {kind: PRICES[kind] * amount / n * 1e6 for kind, amount in amounts.items()}
    modelled = {**amounts, "lambda:gb-second": sum(with_latency.values())}
    per_million_modelled = {kind: PRICES[kind] * amount / n * 1e6 for kind, amount in modelled.items()}
    total, total_modelled = sum(per_million.values()), sum(per_million_modelled.values())
    header = "| price line (us-east-1 list) | units per prediction | $ per 1M predictions |"
    rule = "|---|---:|---:|"
    if latency is not None:
        header += " units per prediction, AWS latency model | $ per 1M predictions, AWS latency model |"
        rule += "---:|---:|"
    print(f"\n{header}\n{rule}")  # noqa: T201
    for kind in sorted(per_million):
        line = f"| {kind} | {amounts[kind] / n:.3f} | {per_million[kind]:.2f} |"
        if latency is not None:
            line += f" {modelled[kind] / n:.3f} | {per_million_modelled[kind]:.2f} |"
        print(line)  # noqa: T201
    print(f"| **total** | | **{total:.2f}** |" + (f" | **{total_modelled:.2f}** |" if latency else ""))  # noqa: T201
    hosted = f"{HOSTED_PER_MILLION:.2f} (ratio {HOSTED_PER_MILLION / total:.1f}x)"
    print(f"| hosted CPU API ($0.0001/s x 200 ms) | | {hosted} |")  # noqa: T201
    for function, seconds in sorted(gb_seconds.items()):
        modelled_ms = f", {with_latency[function] / n * 1000:.1f} with AWS latency" if latency else ""
        print(f"\n{function}: {seconds / n * 1000:.1f} GB-ms per prediction{modelled_ms}")  # noqa: T201
    if args.json:
        limiter = sum(count for (service, op), count in calls.items() if service == "dynamodb" and RATE_LIMIT in op)
        figures = {
            "model": args.model,
            "key_rate": args.key_rate,
            "per_million": total,
            "dynamodb_writes": (units["dynamodb:write"] - limiter) / n,
            "rate_limit_writes": limiter / n,
            "s3_requests": (units["s3:put"] + units["s3:get"]) / n,
        }
        if latency is not None:
            figures["per_million_latency"] = total_modelled
        args.json.write_text(json.dumps(figures), encoding="utf-8")


if __name__ == "__main__":
    main()
