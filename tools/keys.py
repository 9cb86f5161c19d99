"""Mint an API key straight into the table with AWS credentials: the bootstrap for a new deployment.

    python -m tools.keys mint --tenant acme --stack-name infergate          # deployed stack (its TableName output)
    python -m tools.keys mint --tenant acme --table infergate-Table-XYZ     # a table by name
    python -m tools.keys mint --tenant acme --local                         # the running `make dev` stack

There is deliberately no HTTP route to create a first admin key.
"""

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence

import boto3

from shared.adapters.dynamodb.keys import DynamoKeyStore
from shared.kernel.observability import logger
from shared.kernel.pagination import CursorCodec
from shared.keys.models import InvalidTenantError, Scope
from shared.keys.service import KeyService
from tools.devstack import STATE_FILE, point_aws_at


class UsageError(Exception):
    pass


def _no_cursor_secret() -> bytes:
    raise UsageError("listing is not supported by this tool")


def table_name(args: argparse.Namespace) -> str:
    if args.local:
        if not STATE_FILE.exists():
            raise UsageError("no local stack is running (start it with `make dev`)")
        state = json.loads(STATE_FILE.read_text(encoding="utf-8"))
        point_aws_at(state["aws_endpoint_url"])
        return str(state["resources"]["Table"])
    if args.table:
        return str(args.table)
    if args.stack_name:
        cloudformation = boto3.client("cloudformation", region_name=args.region)
        stack = cloudformation.describe_stacks(StackName=args.stack_name)["Stacks"][0]
        for output in stack.get("Outputs", []):
            if output.get("OutputKey") == "TableName":
                return str(output["OutputValue"])
        raise UsageError(f"stack {args.stack_name} has no TableName output")
    raise UsageError("say where: --stack-name, --table or --local")


def logs_to_stderr() -> None:
    """Keep stdout for the command's result: the service's structured logs go to stderr."""
    handler = logger.registered_handler
    if isinstance(handler, logging.StreamHandler):
        handler.setStream(sys.stderr)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="python -m tools.keys", description=__doc__.splitlines()[0] if __doc__ else None
    )
    commands = root.add_subparsers(dest="command", required=True)
    mint = commands.add_parser("mint", help="mint a key and print it once")
    mint.add_argument("--tenant", required=True)
    mint.add_argument("--name", default="bootstrap admin")
    mint.add_argument("--scopes", nargs="+", choices=[s.value for s in Scope], default=[Scope.ADMIN.value])
    where = mint.add_mutually_exclusive_group()
    where.add_argument("--stack-name", help="CloudFormation stack whose TableName output to use")
    where.add_argument("--table", help="DynamoDB table name")
    where.add_argument("--local", action="store_true", help="the running local stack")
    mint.add_argument("--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        table = table_name(args)
        client = boto3.client("dynamodb", region_name=args.region)
        keys = KeyService(DynamoKeyStore(table, client), CursorCodec(_no_cursor_secret))
        key, secret = keys.create(args.tenant, args.name, [Scope(s) for s in args.scopes])
    except (UsageError, InvalidTenantError) as problem:
        sys.stderr.write(f"error: {problem}\n")
        return 2
    sys.stdout.write(
        json.dumps({"id": key.id, "tenant": key.tenant, "scopes": sorted(key.scopes), "key": secret}, indent=2) + "\n"
    )
    sys.stderr.write("Store the key now: only its hash is kept, it cannot be shown again.\n")
    return 0


if __name__ == "__main__":
    logs_to_stderr()
    raise SystemExit(main())
