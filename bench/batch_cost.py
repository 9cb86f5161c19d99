"""AWS requests and list-price cost of a 10,000-line batch, against the same inputs as single predictions.

    .venv/bin/python -m bench.batch_cost [--lines 10000] [--singles 500]

Everything runs in this process on moto (no network): the real handlers of template.yaml are invoked
with the events their triggers would send, and every AWS call they make is counted (by service and
operation) at botocore's client level. The batch path is: create the upload and the batch (API), the
validation step and fan-out, every chunk, the finalizer, one GET of the batch and the two result
downloads. The single-prediction path is create + run + one GET per input, measured on ``--singles``
inputs and scaled to ``--lines`` (the calls per prediction do not depend on how many there are).
SQS receives/deletes made by Lambda's own poller are added as 2 per 10 messages (one receive, one
batch delete), which is what the event source mapping does at full batches.

DynamoDB writes are priced as one 1 KB write unit each (a prediction item with a small input, and the
batch item, stay under 2 KB: at worst x2 on that line).

Prices: ``bench/aws_calls.py`` (us-east-1 list prices). Lambda is left out: both paths run the same
model on the same inputs (the batch path with fewer, larger invocations).
"""

import argparse
import io
import json
from collections import Counter
from collections.abc import Callable
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from bench.aws_calls import REQUEST_KINDS, Calls, billable, counting, fake_aws_environment, price
from bench.stack import provision_stack

TENANT = "bench"


def with_api_overhead(calls: Calls, api_requests: int) -> Calls:
    """The services are called directly here; through the API each request also authenticates its key
    (GetItem) and counts against its rate limit (UpdateItem)."""
    calls[("dynamodb", "GetItem (API key)")] += api_requests
    calls[("dynamodb", "UpdateItem (rate limit)")] += api_requests
    return calls


def cost(calls: Calls, api_requests: int) -> tuple[dict[str, int], float]:
    units = billable(calls)
    units["apigateway"] += api_requests
    return dict(units), price(units)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--singles", type=int, default=500)
    parser.add_argument("--json", type=Path, help="also write the key figures to this file (for `python -m bench`)")
    args = parser.parse_args()
    fake_aws_environment()
    with mock_aws(), redirect_stdout(io.StringIO()):  # the functions' metric lines (EMF) go to stdout
        batch_units, batch_cost = run_batch(args.lines)
        single_units, single_cost = run_singles(args.singles, args.lines)
    print(f"\nAWS requests for {args.lines:,} inputs (sentiment), counted on the real handlers\n")  # noqa: T201
    print(f"| | one batch | {args.lines:,} single predictions | ratio |")  # noqa: T201
    print("|---|---:|---:|---:|")  # noqa: T201
    for label, kind in REQUEST_KINDS:
        b, s = batch_units.get(kind, 0), single_units.get(kind, 0)
        ratio = f"{s / b:.0f}x" if b and s else "-"
        print(f"| {label} | {b:,} | {s:,} | {ratio} |")  # noqa: T201
    print(  # noqa: T201
        f"| **list price (excl. Lambda)** | **${batch_cost:.4f}** | **${single_cost:.4f}** | "
        f"**{single_cost / batch_cost:.0f}x** |"
    )
    if args.json:
        args.json.write_text(json.dumps({"batch": batch_cost, "singles": single_cost}), encoding="utf-8")


def provision(prefix: str, **environment: str) -> None:
    """Provision the stack on moto (inside ``mock_aws()``); ``drain`` then delivers its queues."""
    created = provision_stack(prefix, **environment)
    _stack_refs.update(created.refs)
    _stack_arns.update(created.arns)


_stack_refs: dict[str, str] = {}
_stack_arns: dict[str, str] = {}
Invoke = Callable[[str, dict[str, Any]], Any]


def drain(queue: str, function: str, invoke: Invoke | None = None) -> int:
    """Deliver every message of ``queue`` to ``function`` in SQS-trigger batches (through ``invoke``, the
    handler by default); returns how many."""
    from tools.lambda_runtime import invoke_function
    from tools.sqs_events import lambda_event

    invoke = invoke or invoke_function

    sqs = boto3.client("sqs")
    delivered = 0
    while True:
        response = sqs.receive_message(
            QueueUrl=_stack_refs[queue], MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        )
        messages: list[dict[str, Any]] = [dict(m) for m in response.get("Messages", [])]
        if not messages:
            return delivered
        size = 1 if queue == "BatchesQueue" else 10
        for first in range(0, len(messages), size):
            group = messages[first : first + size]
            result = invoke(function, lambda_event(group, _stack_arns[queue], "us-east-1"))
            assert result == {"batchItemFailures": []}, result
            for message in group:
                sqs.delete_message(QueueUrl=_stack_refs[queue], ReceiptHandle=str(message["ReceiptHandle"]))
            delivered += len(group)


def _poller_requests(messages: int) -> int:
    return 2 * -(-messages // 10)  # a receive and a batch delete per (full) batch of ten


def run_batch(lines: int) -> tuple[dict[str, int], float]:
    from shared.batches.models import BatchStatus
    from shared.batches.service import NewBatch
    from shared.keys.models import Caller, Scope
    from shared.settings import BucketSettings, settings
    from shared.uploads.models import Purpose
    from shared.wiring import batch_service, batch_store, download_url, upload_service

    provision("bench-batch")
    data = b"".join(
        json.dumps({"custom_id": f"row-{n}", "input": {"text": "What a lovely day!"}}).encode() + b"\n"
        for n in range(lines)
    )
    with counting() as calls:
        caller = Caller(TENANT, "key_01JD5YB4W3ZV0B4S8FZ7Q6N9XK", frozenset({Scope.PREDICT}))
        upload, _ = upload_service().create(caller, Purpose.BATCH_INPUT, "application/jsonl", len(data))
        s3 = boto3.client("s3")
        s3.put_object(
            Bucket=settings(BucketSettings).bucket_name, Key=upload.key, Body=data, ContentType="application/jsonl"
        )
        batch = batch_service().create(TENANT, NewBatch("sentiment", upload.id))
        messages = 0
        while True:
            moved = drain("BatchesQueue", "ProcessBatchesFunction") + drain(
                "PredictionsQueue", "RunPredictionsFunction"
            )
            messages += moved
            if not moved:
                break
        finished = batch_store().get(TENANT, batch.id)
        assert finished.status is BatchStatus.COMPLETED, finished
        for key in (finished.output_key, finished.errors_key):
            if key:
                download_url(key)
                boto3.client("s3").get_object(Bucket=settings(BucketSettings).bucket_name, Key=key)  # the user's GET
    calls[("sqs", "Lambda poller (receive + delete)")] += _poller_requests(messages)
    # The client's own requests are not counted as the receive loop's: remove the bench's receive/delete.
    for operation in ("ReceiveMessage", "DeleteMessage"):
        calls.pop(("sqs", operation), None)
    return cost(with_api_overhead(calls, 3), api_requests=3)  # create upload, create batch, one GET


def run_singles(count: int, scale_to: int) -> tuple[dict[str, int], float]:
    from shared.predictions.service import NewPrediction
    from shared.wiring import prediction_service

    provision("bench-singles")
    with counting() as calls:
        ids = [
            prediction_service().create(TENANT, NewPrediction("sentiment", {"text": "What a lovely day!"}), None).id
            for _ in range(count)
        ]
        messages = drain("PredictionsQueue", "RunPredictionsFunction")
        for prediction_id in ids:
            prediction_service().get(TENANT, prediction_id)
    calls[("sqs", "Lambda poller (receive + delete)")] += _poller_requests(messages)
    for operation in ("ReceiveMessage", "DeleteMessage"):
        calls.pop(("sqs", operation), None)
    scaled = Counter({key: round(value * scale_to / count) for key, value in calls.items()})
    return cost(with_api_overhead(scaled, 2 * scale_to), 2 * scale_to)  # a create and one GET each


if __name__ == "__main__":
    main()
