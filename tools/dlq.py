"""Look into the dead-letter queues and move their messages back.

    python -m tools.dlq show --local                           # both DLQs of the running `make dev` stack
    python -m tools.dlq show --stack-name infergate            # a deployed stack (its outputs)
    python -m tools.dlq redrive predictions --stack-name infergate
    python -m tools.dlq redrive webhooks --local               # = python -m tools.webhooks redrive --local

``show`` peeks without consuming (messages stay visible): queue, message id,
receive count, first sent time and the body (ids only: messages never carry inputs or secrets).
Redriving predictions is safe at any time: the worker finishes each prediction at most once and skips
finished ones. Webhook deliveries get a fresh retry schedule and keep their ``webhook-id``.
"""

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

import boto3

from shared.adapters.dynamodb.deliveries import DynamoDeliveryStore
from shared.adapters.sqs import SqsDeliveryQueue
from shared.webhooks.worker import redrive as redrive_webhooks
from tools.devstack import STATE_FILE, point_aws_at

QUEUES = {"predictions": ("PredictionsQueue", "PredictionsDLQ"), "webhooks": ("WebhooksQueue", "WebhooksDLQ")}


class UsageError(Exception):
    pass


def stack_resources(args: argparse.Namespace) -> dict[str, str]:
    """Table name and every queue URL, by logical id."""
    if args.local:
        if not STATE_FILE.exists():
            raise UsageError("no local stack is running (start it with `make dev`)")
        state = json.loads(STATE_FILE.read_text(encoding="utf-8"))
        point_aws_at(state["aws_endpoint_url"])
        created = state["resources"]
        return {name: created[name] for name in ["Table", *(name for pair in QUEUES.values() for name in pair)]}
    if args.stack_name:
        stack = boto3.client("cloudformation", region_name=args.region).describe_stacks(StackName=args.stack_name)
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Stacks"][0].get("Outputs", [])}
        try:
            return {
                **{name: outputs[f"{name}Url"] for pair in QUEUES.values() for name in pair},
                "Table": outputs["TableName"],
            }
        except KeyError as missing:
            raise UsageError(f"stack {args.stack_name} has no {missing} output") from None
    raise UsageError("say where: --stack-name or --local")


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


def redrive_predictions(sqs: Any, resources: dict[str, str], limit: int = 10_000) -> int:
    queue, dlq = (resources[name] for name in QUEUES["predictions"])
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
        where = command.add_mutually_exclusive_group()
        where.add_argument("--stack-name")
        where.add_argument("--local", action="store_true")
        command.add_argument("--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))
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
    if args.queue == "predictions":
        moved = redrive_predictions(sqs, resources)
    else:
        deliveries = DynamoDeliveryStore(resources["Table"], boto3.client("dynamodb", region_name=args.region))
        webhooks, dlq = (SqsDeliveryQueue(resources[name], sqs) for name in QUEUES["webhooks"])
        moved = redrive_webhooks(dlq, webhooks, deliveries)
    sys.stdout.write(json.dumps({"redriven": moved}) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
