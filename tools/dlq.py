"""Look into the dead-letter queues and move their messages back.

    python -m tools.dlq show --local                           # the three DLQs of the running `make dev` stack
    python -m tools.dlq show --stack-name infergate            # a deployed stack (its outputs)
    python -m tools.dlq redrive predictions --stack-name infergate
    python -m tools.dlq redrive batches --local
    python -m tools.dlq redrive webhooks --local               # = python -m tools.webhooks redrive --local

``show`` peeks without consuming (messages stay visible): queue, message id,
receive count, first sent time and the body (ids only: messages never carry inputs or secrets).
Redriving predictions is safe at any time: the worker finishes each prediction at most once and skips
finished ones; likewise a batch step checks the batch's status first (a finished batch ignores it).
Webhook deliveries get a fresh retry schedule and keep their ``webhook-id``.
"""

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

import boto3

from shared.adapters.dynamodb.deliveries import DynamoDeliveryStore
from shared.adapters.sqs import SqsDeliveryQueue
from shared.webhooks.worker import redrive as redrive_webhooks
from tools.stack_target import UsageError, add_target_arguments
from tools.stack_target import stack_resources as target_resources

QUEUES = {
    "predictions": ("PredictionsQueue", "PredictionsDLQ"),
    "batches": ("BatchesQueue", "BatchesDLQ"),
    "webhooks": ("WebhooksQueue", "WebhooksDLQ"),
}


def stack_resources(args: argparse.Namespace) -> dict[str, str]:
    """Table name and every queue URL, by logical id."""
    return target_resources(args, ["Table", *(name for pair in QUEUES.values() for name in pair)])


def show(sqs: Any, resources: dict[str, str]) -> list[dict[str, Any]]:
    found = []
    for kind, (_, dlq) in QUEUES.items():
        seen: set[str] = set()
        idle_rounds = 0
        while idle_rounds < 3:  # SQS samples: stop after three answers with nothing new
            batch = sqs.receive_message(
                QueueUrl=resources[dlq],
                MaxNumberOfMessages=10,
                VisibilityTimeout=0,  # a peek: the message stays visible
                WaitTimeSeconds=0 if seen or idle_rounds else 1,
                MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
            ).get("Messages", [])
            fresh = [m for m in batch if m["MessageId"] not in seen]
            idle_rounds = 0 if fresh else idle_rounds + 1
            for message in fresh:
                seen.add(message["MessageId"])
                attributes = message.get("Attributes", {})
                found.append(
                    {
                        "queue": kind,
                        "message_id": message["MessageId"],
                        "receive_count": int(attributes.get("ApproximateReceiveCount", 0)),
                        "sent_timestamp": int(attributes.get("SentTimestamp", 0)),
                        "body": json.loads(message["Body"]),
                    }
                )
    return found


def move_back(sqs: Any, resources: dict[str, str], kind: str, limit: int = 10_000) -> int:
    """Move the ``kind`` DLQ's messages to their queue as they are (ids only; every step is idempotent)."""
    queue, dlq = (resources[name] for name in QUEUES[kind])
    moved = 0
    while moved < limit:
        batch = sqs.receive_message(
            QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not batch:
            return moved
        for message in batch:
            sqs.send_message(
                QueueUrl=queue, MessageBody=message["Body"], MessageAttributes=message.get("MessageAttributes", {})
            )
            sqs.delete_message(QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    return moved


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m tools.dlq", description="Inspect and redrive the DLQs.")
    commands = root.add_subparsers(dest="command", required=True)
    show_command = commands.add_parser("show", help="list what the dead-letter queues hold, without consuming it")
    redrive_command = commands.add_parser("redrive", help="move a dead-letter queue's messages back")
    redrive_command.add_argument("queue", choices=sorted(QUEUES))
    for command in (show_command, redrive_command):
        add_target_arguments(command)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        resources = stack_resources(args)
    except UsageError as problem:
        sys.stderr.write(f"error: {problem}\n")
        return 2
    sqs = boto3.client("sqs", region_name=args.region)  # after --local pointed this process at the emulator
    if args.command == "show":
        for entry in show(sqs, resources):
            sys.stdout.write(json.dumps(entry) + "\n")
        return 0
    if args.queue in ("predictions", "batches"):
        moved = move_back(sqs, resources, args.queue)
    else:
        deliveries = DynamoDeliveryStore(resources["Table"], boto3.client("dynamodb", region_name=args.region))
        webhooks, dlq = (SqsDeliveryQueue(resources[name], sqs) for name in QUEUES["webhooks"])
        moved = redrive_webhooks(dlq, webhooks, deliveries)
    sys.stdout.write(json.dumps({"redriven": moved}) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
