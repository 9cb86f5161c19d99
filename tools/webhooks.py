"""Operate webhook deliveries: move parked deliveries from the dead-letter queue back into delivery.

    python -m tools.webhooks redrive --local                      # the running `make dev` stack
    python -m tools.webhooks redrive --stack-name infergate       # a deployed stack (its outputs)

Each parked delivery gets a fresh retry schedule and keeps its ``webhook-id``.
"""

import argparse
import json
import sys
from collections.abc import Sequence

import boto3

from shared.adapters.dynamodb.deliveries import DynamoDeliveryStore
from shared.adapters.sqs import SqsDeliveryQueue
from shared.webhooks.worker import redrive
from tools.stack_target import UsageError, add_target_arguments, logs_to_stderr, stack_resources


def resources(args: argparse.Namespace) -> tuple[str, str, str]:
    """(table, webhooks queue url, webhooks dlq url) of the chosen stack."""
    found = stack_resources(args, ["Table", "WebhooksQueue", "WebhooksDLQ"])
    return found["Table"], found["WebhooksQueue"], found["WebhooksDLQ"]


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m tools.webhooks", description="Operate webhook deliveries.")
    commands = root.add_subparsers(dest="command", required=True)
    command = commands.add_parser("redrive", help="move parked deliveries back into delivery")
    add_target_arguments(command)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        table, queue_url, dlq_url = resources(args)
    except UsageError as problem:
        sys.stderr.write(f"error: {problem}\n")
        return 2
    sqs = boto3.client("sqs", region_name=args.region)
    deliveries = DynamoDeliveryStore(table, boto3.client("dynamodb", region_name=args.region))
    moved = redrive(SqsDeliveryQueue(dlq_url, sqs), SqsDeliveryQueue(queue_url, sqs), deliveries)
    sys.stdout.write(json.dumps({"redriven": moved}) + "\n")
    return 0


if __name__ == "__main__":
    logs_to_stderr()
    raise SystemExit(main())
