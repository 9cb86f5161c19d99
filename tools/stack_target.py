"""Where an operator tool (``tools.import_model``) acts: the running local
stack (``--local``, from ``make dev``'s state file) or a deployed one (``--stack-name``, from its outputs),
and the resources it needs there, by logical id (``Table``, ``WebhooksQueue`` ...)."""

import argparse
import json
import logging
import os
import sys
from collections.abc import Iterable
from typing import Any

import boto3

from shared.kernel.observability import logger
from tools.devstack import STATE_FILE, point_aws_at


class UsageError(Exception):
    """The command line does not say where to act, or names what is not there: exit 2 with the message."""


def add_target_arguments(command: argparse.ArgumentParser, table: bool = False) -> None:
    """``--stack-name`` | ``--local`` (| ``--table``, a table by name), and ``--region``."""
    where = command.add_mutually_exclusive_group()
    where.add_argument("--stack-name", help="a deployed stack: the resources its outputs name")
    if table:
        where.add_argument("--table", help="DynamoDB table name")
    where.add_argument("--local", action="store_true", help="the running local stack")
    command.add_argument("--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))


def stack_resources(args: argparse.Namespace, logical_ids: Iterable[str]) -> dict[str, str]:
    """The table name or queue URL of each of ``logical_ids`` in the stack ``args`` name. For the local
    stack, boto3 in this process is pointed at its emulator first."""
    if args.local:
        state = local_state()
        point_aws_at(state["aws_endpoint_url"], state["operator"])
        created = state["resources"]
        return {logical_id: str(created[logical_id]) for logical_id in logical_ids}
    if args.stack_name:
        stack = boto3.client("cloudformation", region_name=args.region).describe_stacks(StackName=args.stack_name)
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Stacks"][0].get("Outputs", [])}
        try:
            return {logical_id: outputs[_output_key(logical_id)] for logical_id in logical_ids}
        except KeyError as missing:
            raise UsageError(f"stack {args.stack_name} has no {missing} output") from None
    raise UsageError("say where: --stack-name or --local")


def local_state() -> dict[str, Any]:
    """What the running local stack wrote about itself (``base_url``, ``aws_endpoint_url``, ``resources`` ...)."""
    if not STATE_FILE.exists():
        raise UsageError("no local stack is running (start it with `make dev`)")
    state: dict[str, Any] = json.loads(STATE_FILE.read_text(encoding="utf-8"))
    return state


def _output_key(logical_id: str) -> str:
    """The template's output naming the resource: ``TableName``, ``<queue>Url``."""
    return "TableName" if logical_id == "Table" else f"{logical_id}Url"


def logs_to_stderr() -> None:
    """Keep stdout for the command's result: the service's structured logs go to stderr."""
    handler = logger.registered_handler
    if isinstance(handler, logging.StreamHandler):
        handler.setStream(sys.stderr)
