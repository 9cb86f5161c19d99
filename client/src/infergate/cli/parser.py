"""The argument parser: global options, then one subcommand group per command module.

A command module exposes ``register(subparsers)``, adding its parsers (made with ``command`` so they
take the global options too) and setting ``handler`` on each; ``commands.COMMANDS`` lists the modules.
"""

import argparse
from collections.abc import Iterable
from typing import Any, Protocol, TypeAlias

from infergate import __version__
from infergate.cli import exit_codes

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


class CommandModule(Protocol):
    def register(self, subparsers: Subparsers, /) -> None: ...


DESCRIPTION = "Infergate's command line: run predictions and batches, manage models, keys and webhooks."

EPILOG = f"""\
configuration:
  --base-url and --api-key default to $INFERGATE_BASE_URL and $INFERGATE_API_KEY.
  Global options may come before or after the command (infergate models list --json).

output:
  People get aligned tables for lists and "key: value" lines for records. With --json, stdout
  carries exactly one JSON document per command, or JSON lines for lists and result streams;
  messages go to stderr. An error is one line on stderr with the problem's detail and the
  request id (X-Request-Id); with --json the problem document follows as JSON on stderr.

exit statuses:
{exit_codes.table()}
"""


def _global_options(parser: argparse.ArgumentParser, default: Any) -> None:
    group = parser.add_argument_group("global options")
    group.add_argument(
        "--base-url", default=default, metavar="URL", help="the API's base URL (default: $INFERGATE_BASE_URL)"
    )
    group.add_argument("--api-key", default=default, metavar="KEY", help="an API key (default: $INFERGATE_API_KEY)")
    group.add_argument(
        "--json", dest="json_mode", action="store_true", default=default, help="machine output: JSON on stdout"
    )


# Given after the command, a global option must not be reset by the command's parser when absent.
_COMMON = argparse.ArgumentParser(add_help=False)
_global_options(_COMMON, argparse.SUPPRESS)


def command(subparsers: Subparsers, name: str, *, help: str, **kwargs: Any) -> argparse.ArgumentParser:
    """A command's parser, taking the global options as well."""
    kwargs.setdefault("description", help[0].upper() + help[1:] + ".")
    kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
    return subparsers.add_parser(name, help=help, parents=[_COMMON], **kwargs)


def group(subparsers: Subparsers, name: str, *, help: str) -> Subparsers:
    """A group of subcommands (``infergate models list``), each made with ``command``."""
    parser = subparsers.add_parser(name, help=help, description=help[0].upper() + help[1:] + ".")
    return parser.add_subparsers(dest=f"{name}_command", required=True, metavar="COMMAND")


def build_parser(modules: Iterable[CommandModule]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="infergate",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _global_options(parser, None)
    parser.set_defaults(json_mode=False)
    parser.add_argument("--version", action="version", version=f"infergate {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in modules:
        module.register(subparsers)
    return parser
