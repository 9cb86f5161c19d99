"""The ``infergate`` command line (the console script calls ``main``)."""

import os
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
    try:
        code = _run(argv, client_factory or default_client, stdout, stderr, stdin or sys.stdin)
        stdout.flush()  # a reader that went away shows here, not in the interpreter's flush at exit
    except BrokenPipeError:
        # `infergate predictions list | head -1`: stop quietly, as a program killed by SIGPIPE would.
        _discard(stdout)
        return exit_codes.ExitCode.BROKEN_PIPE
    return code


def _run(argv: list[str] | None, client_factory: ClientFactory, stdout: TextIO, stderr: TextIO, stdin: TextIO) -> int:
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
    context = Context(args, out, client_factory, stdin)
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
    except BrokenPipeError:
        raise
    except Exception as error:  # noqa: BLE001 - the last resort: one clear line, not a traceback
        return failures.unexpected(error, out)
    finally:
        context.close()


def _discard(stream: TextIO) -> None:
    """Point the stream's file descriptor at /dev/null, so flushing what is still buffered cannot fail again."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):  # not a file (a StringIO, in tests)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)
