"""Batches through the real queue consumers on moto, one message at a time, as the SQS triggers would."""

import json
from collections.abc import Iterator
from typing import Any

import boto3
import httpx

from shared.batches.models import BatchStatus
from shared.batches.service import NewBatch
from shared.keys.models import Caller, Scope
from shared.representations import BatchOut
from shared.settings import BucketSettings, settings
from shared.uploads.models import Purpose
from shared.wiring import batch_service, batch_store, download_url, upload_service
from tools.lambda_runtime import invoke_function
from tools.provision import Stack
from tools.sqs_events import lambda_event

TENANT = "acme"
CONSUMERS = {"BatchesQueue": "ProcessBatchesFunction", "PredictionsQueue": "RunPredictionsFunction"}


def jsonl(lines: list[Any]) -> bytes:
    return b"".join((line if isinstance(line, bytes) else json.dumps(line).encode()) + b"\n" for line in lines)


def upload(data: bytes, tenant: str = TENANT) -> str:
    caller = Caller(tenant, "key_01JD5YB4W3ZV0B4S8FZ7Q6N9XK", frozenset({Scope.PREDICT}))
    created, _presigned = upload_service().create(caller, Purpose.BATCH_INPUT, "application/jsonl", len(data))
    boto3.client("s3").put_object(
        Bucket=settings(BucketSettings).bucket_name, Key=created.key, Body=data, ContentType="application/jsonl"
    )
    return created.id


def create(data: bytes, model: str = "sentiment", **extra: Any) -> str:
    return batch_service().create(TENANT, NewBatch(model, upload(data), **extra)).id


def receive(stack: Stack, queue: str, hide_seconds: int = 0) -> list[dict[str, Any]]:
    """Up to ten messages; they stay visible (to be delivered again) unless ``hide_seconds`` is given."""
    response = boto3.client("sqs").receive_message(
        QueueUrl=stack.refs[queue],
        MaxNumberOfMessages=10,
        MessageAttributeNames=["All"],
        VisibilityTimeout=hide_seconds,
    )
    return [dict(m) for m in response.get("Messages", [])]


def deliver(
    stack: Stack, queue: str, messages: list[dict[str, Any]], delete: bool = True, park_failures: bool = False
) -> int:
    """Invoke the queue's consumer as the SQS trigger would; what succeeded is deleted. A record the
    consumer reports failed is an error, unless ``park_failures``: then it is taken off the queue as
    if every redelivery had failed too and it had reached the DLQ. Returns how many failed."""
    failed = 0
    for message in messages:  # one record per event: BatchesQueue's batch size, and simple to reason about
        result = invoke_function(CONSUMERS[queue], lambda_event([message], stack.arns[queue], "us-east-1"))
        if result["batchItemFailures"]:
            assert park_failures, result
            failed += 1
        if delete or result["batchItemFailures"]:
            boto3.client("sqs").delete_message(QueueUrl=stack.refs[queue], ReceiptHandle=message["ReceiptHandle"])
    return failed


def drop(stack: Stack, queue: str) -> list[dict[str, Any]]:
    """Take every visible message off the queue unprocessed: lost, or parked in its DLQ."""
    dropped: list[dict[str, Any]] = []
    while messages := receive(stack, queue, hide_seconds=300):
        for message in messages:
            boto3.client("sqs").delete_message(QueueUrl=stack.refs[queue], ReceiptHandle=message["ReceiptHandle"])
        dropped += messages
    return dropped


def pump(
    stack: Stack, batch_id: str, rounds: int = 200, park_failures: bool = False, twice: bool = False
) -> Iterator[tuple[int, int, int]]:
    """Run both queues until they are empty; yields the batch's counts after every delivery round.
    ``twice``: every message is delivered twice (kept the first time), as SQS may."""
    for _ in range(rounds):
        moved = False
        for queue in CONSUMERS:
            messages = receive(stack, queue)
            if messages:
                moved = True
                if twice:
                    deliver(stack, queue, messages, delete=False)
                deliver(stack, queue, messages, park_failures=park_failures)
                counts = batch_store().get(TENANT, batch_id).counts
                yield counts.total, counts.completed, counts.failed
        if not moved:
            return
    raise AssertionError("the queues never drained")


def download(url: str) -> list[dict[str, Any]]:
    # moto answers presigned GETs of its own (mocked) endpoint through boto3's stubbed transport only,
    # so the file is read with the SDK after checking the URL names the object.
    assert "X-Amz-Signature=" in url
    bucket = settings(BucketSettings).bucket_name
    key = httpx.URL(url).path.lstrip("/").removeprefix(f"{bucket}/")  # virtual-hosted or path style
    body = boto3.client("s3").get_object(Bucket=settings(BucketSettings).bucket_name, Key=key)["Body"].read()
    return [json.loads(line) for line in body.decode().splitlines()]


def files(batch_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    out = BatchOut.of(batch_store().get(TENANT, batch_id), download_url)
    assert out.output_url is not None
    assert out.errors_url is not None
    return download(out.output_url), download(out.errors_url)


def mixed_lines(count: int) -> list[dict[str, Any]]:
    """Every 10th line's input breaks the sentiment schema (no text); the rest are valid."""
    return [
        {"custom_id": f"row-{n}", "input": {"txt": "no"} if n % 10 == 0 else {"text": "A wonderful day!"}}
        for n in range(1, count + 1)
    ]


def validated_with_chunks_held(stack: Stack, batch_id: str) -> list[dict[str, Any]]:
    """Validate the batch; its chunk messages, taken off the queue (hidden for five minutes)."""
    while batch_store().get(TENANT, batch_id).status is BatchStatus.VALIDATING:
        deliver(stack, "BatchesQueue", receive(stack, "BatchesQueue"))
    chunks: list[dict[str, Any]] = []
    while len(chunks) < batch_store().get(TENANT, batch_id).chunks_total:  # type: ignore[operator]
        chunks += receive(stack, "PredictionsQueue", hide_seconds=300)
    return sorted(chunks, key=lambda message: json.loads(message["Body"])["chunk"])
