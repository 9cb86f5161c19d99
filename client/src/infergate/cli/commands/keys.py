"""``infergate keys create|list|revoke``: the API keys of your tenant (an admin key's commands)."""

from infergate.cli.context import Context
from infergate.cli.output import Column, text
from infergate.cli.parser import Subparsers, command, group

COLUMNS = (
    Column.key("id"),
    Column.key("name"),
    Column("SCOPES", lambda row: ",".join(row.get("scopes") or [])),
    Column.key("last4", "LAST4"),
    Column.key("created_at", "CREATED"),
)


def register(subparsers: Subparsers) -> None:
    commands = group(subparsers, "keys", help="create, list and revoke API keys (needs an admin key)")
    create = command(
        commands, "create", help="create a key; its secret is printed this once", epilog="example: --scope predict"
    )
    create.add_argument("--name", required=True, help="a name to recognise it by")
    create.add_argument(
        "--scope",
        dest="scopes",
        action="append",
        required=True,
        choices=("predict", "admin"),
        help="a scope (repeat for several): predict, or admin (manages keys and models)",
    )
    create.set_defaults(handler=create_key)
    listing = command(commands, "list", help="your tenant's keys (never their secrets)")
    listing.set_defaults(handler=list_keys)
    revoke = command(commands, "revoke", help="revoke a key: it stops working at once")
    revoke.add_argument("id", metavar="ID")
    revoke.set_defaults(handler=revoke_key)


def create_key(context: Context) -> int:
    created = context.client.keys.create(context.args.name, sorted(set(context.args.scopes)))
    context.out.record(created)
    context.out.note(f"warning: store the key {text(created.id)} now: its secret is not shown again")
    return 0


def list_keys(context: Context) -> int:
    context.out.rows(context.client.keys.list(), COLUMNS)
    return 0


def revoke_key(context: Context) -> int:
    context.client.keys.revoke(context.args.id)
    if context.out.json_mode:
        context.out.document({"id": context.args.id, "revoked": True})
    else:
        context.out.stdout.write(f"revoked {context.args.id}\n")
    return 0
