"""``infergate webhooks secret|rotate``: the secret your webhooks are signed with."""

from infergate.cli.context import Context
from infergate.cli.parser import Subparsers, command, group


def register(subparsers: Subparsers) -> None:
    commands = group(subparsers, "webhooks", help="the webhooks' signing secret")
    command(commands, "secret", help="show the signing secret (whsec_...)").set_defaults(handler=secret)
    command(
        commands, "rotate", help="make a new secret; the old one keeps signing for 24 h (needs an admin key)"
    ).set_defaults(handler=rotate)


def secret(context: Context) -> int:
    context.out.record(context.client.webhooks.secret())
    return 0


def rotate(context: Context) -> int:
    context.out.record(context.client.webhooks.rotate())
    return 0
