"""Mint an API key straight into the table with AWS credentials: the bootstrap for a new deployment.

    python -m tools.keys mint --tenant acme --stack-name infergate          # deployed stack (its TableName output)
    python -m tools.keys mint --tenant acme --table infergate-Table-XYZ     # a table by name
    python -m tools.keys mint --tenant acme --local                         # the running `make dev` stack

There is deliberately no HTTP route to create a first admin key.
"""

import argparse
import json
import sys
from collections.abc import Sequence

import boto3

from shared.adapters.dynamodb.keys import DynamoKeyStore
from shared.kernel.pagination import CursorCodec
from shared.keys.models import InvalidTenantError, Scope
from shared.keys.service import KeyService
from tools.stack_target import UsageError, add_target_arguments, logs_to_stderr, stack_resources


def _no_cursor_secret() -> bytes:
    raise UsageError("listing is not supported by this tool")


def key_service(table: str, region: str | None) -> KeyService:
    """Keys stored straight into ``table`` (boto3's credentials and endpoint)."""
    client = boto3.client("dynamodb", region_name=region)
    return KeyService(DynamoKeyStore(table, client), CursorCodec(_no_cursor_secret))


def table_name(args: argparse.Namespace) -> str:
    if args.table:
        return str(args.table)
    if not (args.local or args.stack_name):
        raise UsageError("say where: --stack-name, --table or --local")
    return stack_resources(args, ["Table"])["Table"]


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="python -m tools.keys", description=__doc__.splitlines()[0] if __doc__ else None
    )
    commands = root.add_subparsers(dest="command", required=True)
    mint = commands.add_parser("mint", help="mint a key and print it once")
    mint.add_argument("--tenant", required=True)
    mint.add_argument("--name", default="bootstrap admin")
    mint.add_argument("--scopes", nargs="+", choices=[s.value for s in Scope], default=[Scope.ADMIN.value])
    add_target_arguments(mint, table=True)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        keys = key_service(table_name(args), args.region)
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
