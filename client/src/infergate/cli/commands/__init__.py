"""The command modules, each adding its subcommands with ``register(subparsers)``.

Another group is one module exposing ``register`` and one entry here.
"""

from infergate.cli.commands import admin, batches, keys, models, predict, predictions, webhooks
from infergate.cli.parser import CommandModule

COMMANDS: tuple[CommandModule, ...] = (predict, predictions, models, batches, keys, webhooks, admin)
