"""The command modules, each adding its subcommands with ``register(subparsers)``.

Another group (e.g. the operators' ``admin`` commands) is one module exposing ``register`` and one
entry here.
"""

from infergate.cli.commands import batches, keys, models, predict, predictions, webhooks
from infergate.cli.parser import CommandModule

COMMANDS: tuple[CommandModule, ...] = (predict, predictions, models, batches, keys, webhooks)
