"""The ``infergate`` command line (the console script calls ``main``)."""

import sys
from contextlib import redirect_stderr, redirect_stdout
from typing import TextIO

from infergate.cli import exit_codes, failures
from infergate.cli.commands import COMMANDS
from infergate.cli.context import ClientFactory, Context, default_client
from infergate.cli.inputs import InputError
from infergate.cli.output import Output
from infergate.cli.parser import build_parser
from infergate.errors import InfergateError

__all__ = ["main"]


def main(
    argv: list[str] | None = None,
    *,
    client_factory: ClientFactory | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    stdin: TextIO | None = None,
) -> int:
    """Run one command; its exit status (see ``infergate --help``)."""
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    parser = build_parser(COMMANDS)
    try:
        with redirect_stdout(stdout), redirect_stderr(stderr):  # argparse writes help and usage errors there
            args, extra = parser.parse_known_args(argv)
            # argparse reads a command's positionals in one go: KEY=VALUE pairs after an option come back here.
            if extra and getattr(args, "pairs", None) is not None and not any(e.startswith("-") for e in extra):
                args.pairs += extra
            elif extra:
                parser.error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else exit_codes.ExitCode.USAGE
    out = Output(stdout, stderr, json_mode=args.json_mode)
    context = Context(args, out, client_factory or default_client, stdin or sys.stdin)
    try:
        return int(args.handler(context))
    except InputError as error:
        out.note(f"infergate: error: {error}")
        return exit_codes.ExitCode.USAGE
    except KeyboardInterrupt:
        out.note("infergate: interrupted")
        return exit_codes.ExitCode.INTERRUPTED
    except InfergateError as error:
        return failures.report(error, out)
    finally:
        context.close()
