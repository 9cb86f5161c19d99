"""Operate webhook deliveries: move parked deliveries from the dead-letter queue back into delivery.

    python -m tools.webhooks redrive --local                      # the running `make dev` stack
    python -m tools.webhooks redrive --stack-name infergate       # a deployed stack (its outputs)

Each parked delivery gets a fresh retry schedule and keeps its ``webhook-id``.
"""

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence

import boto3

from shared.adapters.dynamodb.deliveries import DynamoDeliveryStore
from shared.adapters.sqs import SqsDeliveryQueue
from shared.kernel.observability import logger
from shared.webhooks.worker import redrive
from tools.devstack import STATE_FILE, point_aws_at


class UsageError(Exception):
    pass


def resources(args: argparse.Namespace) -> tuple[str, str, str]:
    """(table, webhooks queue url, webhooks dlq url) of the chosen stack."""
    if args.local:
        if not STATE_FILE.exists():
            raise UsageError("no local stack is running (start it with `make dev`)")
        state = json.loads(STATE_FILE.read_text(encoding="utf-8"))
        point_aws_at(state["aws_endpoint_url"])
        created = state["resources"]
        return created["Table"], created["WebhooksQueue"], created["WebhooksDLQ"]
    if args.stack_name:
        stack = boto3.client("cloudformation", region_name=args.region).describe_stacks(StackName=args.stack_name)
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Stacks"][0].get("Outputs", [])}
        try:
            return outputs["TableName"], outputs["WebhooksQueueUrl"], outputs["WebhooksDLQUrl"]
        except KeyError as missing:
            raise UsageError(f"stack {args.stack_name} has no {missing} output") from None
    raise UsageError("say where: --stack-name or --local")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m tools.webhooks", description="Operate webhook deliveries.")
    commands = root.add_subparsers(dest="command", required=True)
    command = commands.add_parser("redrive", help="move parked deliveries back into delivery")
    where = command.add_mutually_exclusive_group()
    where.add_argument("--stack-name")
    where.add_argument("--local", action="store_true")
    command.add_argument("--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))
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
    handler = logger.registered_handler
    if isinstance(handler, logging.StreamHandler):
        handler.setStream(sys.stderr)
    raise SystemExit(main())
