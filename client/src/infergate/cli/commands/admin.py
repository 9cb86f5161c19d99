"""``infergate admin keys mint`` | ``admin dlq show|redrive``: operator commands, with AWS credentials.

They invoke the stack's admin function (``infergate.admin``), so they take no API key: a tenant's first
key is minted this way.
"""

import argparse
from pathlib import Path

from infergate.admin import DEAD_LETTER_QUEUES, Admin, AdminTarget
from infergate.cli.context import Context
from infergate.cli.output import Column
from infergate.cli.parser import Subparsers, command, group

WHERE = """\
where:
  --stack-name NAME  a deployed stack (its AdminFunctionName output), with your AWS credentials
  --local            the running `make dev` stack (its state file: --state-file, $INFERGATE_DEV_STATE_FILE
                     or ./.infergate-dev.json)

Needs boto3: pip install 'infergate[admin]'."""

DEAD_LETTER_COLUMNS = (
    Column.key("queue"),
    Column.key("message_id", "MESSAGE"),
    Column.key("receive_count", "RECEIVES"),
    Column("BODY", lambda row: " ".join(f"{k}={v}" for k, v in (row.get("body") or {}).items())),
)


def register(subparsers: Subparsers) -> None:
    admin = group(subparsers, "admin", help="operator commands with AWS credentials: first keys, dead letters")
    keys = group(admin, "keys", help="mint a tenant's API key (the bootstrap: no API key needed)")
    mint = _targeted(command(keys, "mint", help="mint a key and print its secret, this once", epilog=WHERE))
    mint.add_argument("--tenant", required=True, help="the tenant: 1-63 lower-case letters, digits or '-'")
    mint.add_argument("--name", default="bootstrap admin", help="a name to recognise the key by")
    mint.add_argument(
        "--scope", dest="scopes", action="append", choices=("predict", "admin"), help="a scope (default: admin)"
    )
    mint.set_defaults(handler=mint_key)
    dlq = group(admin, "dlq", help="the dead-letter queues: what they hold, and moving it back")
    show = _targeted(command(dlq, "show", help="list parked messages, leaving them in place", epilog=WHERE))
    show.add_argument("queue", nargs="?", choices=DEAD_LETTER_QUEUES, help="one queue (default: all three)")
    show.add_argument("--limit", type=int, default=100, help="at most this many per queue (1-1000, default 100)")
    show.set_defaults(handler=show_dead_letters)
    redrive = _targeted(command(dlq, "redrive", help="move a queue's parked messages back", epilog=WHERE))
    redrive.add_argument("queue", choices=DEAD_LETTER_QUEUES)
    redrive.set_defaults(handler=redrive_dead_letters)


def _targeted(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--stack-name", help="a deployed stack")
    where.add_argument("--local", action="store_true", help="the running local stack")
    parser.add_argument("--region", help="the stack's region (default: your AWS configuration's)")
    parser.add_argument("--state-file", type=Path, help="the local stack's state file")
    return parser


def _admin(context: Context) -> Admin:
    args = context.args
    if args.local:
        return Admin(AdminTarget.local(args.state_file))
    return Admin(AdminTarget.of_stack(args.stack_name, args.region))


def mint_key(context: Context) -> int:
    minted = _admin(context).mint_key(context.args.tenant, context.args.name, context.args.scopes or ["admin"])
    context.out.record(minted)
    context.out.note(f"warning: store the key {minted['id']} now: only its hash is kept, it is not shown again")
    return 0


def show_dead_letters(context: Context) -> int:
    shown = _admin(context).dead_letters(context.args.queue, context.args.limit)
    context.out.rows(shown["messages"], DEAD_LETTER_COLUMNS)
    if shown["truncated"]:
        context.out.note(f"more are parked in: {', '.join(shown['truncated'])} (raise --limit to see them)")
    return 0


def redrive_dead_letters(context: Context) -> int:
    moved = _admin(context).redrive(context.args.queue)
    if context.out.json_mode:
        context.out.document({"queue": context.args.queue, "redriven": moved})
    else:
        context.out.stdout.write(f"redriven {moved} from the {context.args.queue} dead-letter queue\n")
    return 0
