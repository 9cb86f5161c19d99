"""``infergate batches run|wait|list|show|cancel``: a model over a JSONL file."""

import argparse
import errno
import os
import secrets
import shlex
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from infergate.cli.context import Context
from infergate.cli.inputs import InputError
from infergate.cli.output import Column, dumps, to_data, unix_time
from infergate.cli.parser import Subparsers, command, group
from infergate.cli.progress import BatchProgress
from infergate.errors import APIConnectionError, NotFound

SUCCEEDED = "completed"

TIMES = (
    *("created_at", "in_progress_at", "expires_at", "finalizing_at", "completed_at"),
    *("failed_at", "expired_at", "cancelling_at", "cancelled_at", "retained_until"),
)


def _counts(row: Mapping[str, Any]) -> dict[str, int]:
    return dict(row.get("request_counts") or {})


COLUMNS = (
    Column.key("id"),
    Column.key("status"),
    Column.key("model"),
    Column("DONE", lambda row: "{}/{}".format(*_done_total(row))),
    Column("FAILED", lambda row: str(_counts(row).get("failed", 0))),
    Column.key("created_at", "CREATED", unix_time),
)


def _done_total(row: Mapping[str, Any]) -> tuple[int, int]:
    counts = _counts(row)
    return counts.get("completed", 0) + counts.get("failed", 0), counts.get("total", 0)


def _result_options(parser: Any) -> None:
    parser.add_argument("--out", required=True, type=Path, metavar="OUT.jsonl", help="write the output lines here")
    parser.add_argument(
        "--errors",
        type=Path,
        metavar="ERR.jsonl",
        help="write the error lines here (default: into OUT.jsonl with the outputs)",
    )
    parser.add_argument("--timeout", type=float, metavar="S", help="stop waiting after S seconds (default: never)")
    parser.add_argument(
        "--poll-interval", type=float, default=2.0, metavar="S", help="seconds between checks (default 2)"
    )


def register(subparsers: Subparsers) -> None:
    commands = group(subparsers, "batches", help="run a model over a JSONL file, and follow batches")
    run = command(
        commands,
        "run",
        help="upload a JSONL file, run a model over it, wait and write the results",
        description=(
            'Run MODEL over IN.jsonl (one {"custom_id": ..., "input": {...}} a line): upload it, create the\n'
            "batch, wait for it with its progress on stderr, then write the results. Ctrl-C while waiting\n"
            "leaves the batch running and prints how to resume (infergate batches wait ID --out ...).\n"
            "OUT.jsonl and ERR.jsonl are checked before the upload, and each is written beside itself and\n"
            "renamed when complete: a stop while writing leaves the earlier file, never half a file.\n"
            "Exit status 0 when the batch completed (a line that failed is in the errors), 1 when it\n"
            "failed, expired or was cancelled."
        ),
    )
    run.add_argument("file", type=Path, metavar="IN.jsonl")
    run.add_argument("--model", required=True, metavar="MODEL")
    run.add_argument("--version", type=int, metavar="N", help="run this version (default: the latest)")
    _result_options(run)
    run.set_defaults(handler=run_batch)
    wait = command(commands, "wait", help="wait for a batch (e.g. after Ctrl-C) and write its results")
    wait.add_argument("id", metavar="BATCH_ID")
    _result_options(wait)
    wait.set_defaults(handler=wait_batch)
    listing = command(commands, "list", help="your batches, newest first")
    listing.add_argument("--limit", type=int, default=20, metavar="N", help="show at most N (default 20; 0: all)")
    listing.set_defaults(handler=list_batches)
    show = command(commands, "show", help="one batch")
    show.add_argument("id", metavar="BATCH_ID")
    show.set_defaults(handler=show_batch)
    cancel = command(commands, "cancel", help="cancel a batch: lines not yet run are not run")
    cancel.add_argument("id", metavar="BATCH_ID")
    cancel.set_defaults(handler=cancel_batch)


def run_batch(context: Context) -> int:
    args, out = context.args, context.out
    if not args.file.is_file():
        raise InputError(f"no such file: {args.file}")
    _check_result_files(args)
    try:
        batch = context.client.batches.create(args.model, path=args.file, version=args.version)
    except (KeyboardInterrupt, APIConnectionError):
        # The create may have reached the service with its answer lost: the batch may exist, unwatched.
        out.note("stopped before the service answered: the batch may or may not have been created.")
        out.note("look for it with: infergate batches list")
        raise
    out.note(f"batch {batch.id} created ({args.model}, {args.file})")
    return _wait_and_write(context, batch.id)


def wait_batch(context: Context) -> int:
    _check_result_files(context.args)
    return _wait_and_write(context, context.args.id)


def _resume_hint(context: Context, batch_id: str) -> str:
    args = context.args
    words = ["infergate", "batches", "wait", batch_id, "--out", str(args.out)]
    if args.errors is not None:
        words += ["--errors", str(args.errors)]
    return " ".join(shlex.quote(word) for word in words)


def _wait_and_write(context: Context, batch_id: str) -> int:
    args, out = context.args, context.out
    progress = BatchProgress(out.stderr)
    try:
        batch = context.client.batches.wait(
            batch_id, on_progress=progress, timeout=args.timeout, poll_interval=args.poll_interval
        )
    except BaseException as stopped:
        progress.finish()
        if not isinstance(stopped, NotFound):  # else there is no such batch to resume
            out.note(f"{_why(stopped)}: batch {batch_id} keeps running on the service; nothing is lost.")
            out.note(f"resume with: {_resume_hint(context, batch_id)}")
        raise
    progress.finish()
    data = to_data(batch)
    done, total = _done_total(data)
    for error in ((data.get("errors") or {}).get("data")) or []:
        line = f"line {error['line']}: " if error.get("line") else ""
        out.note(f"  {line}{error.get('code')}: {error.get('message')}")
    try:
        written = _write_results(context, batch_id) if data.get("output_url") or data.get("errors_url") else (0, 0)
    except BaseException as stopped:
        files = f"{args.out} and {args.errors} are" if args.errors else f"{args.out} is"
        out.note(f"{_why(stopped)} while writing the results of batch {batch_id}: {files} incomplete (not written).")
        out.note(f"the results stay on the service; write them again with: {_resume_hint(context, batch_id)}")
        raise
    if out.json_mode:
        out.document(batch)
    else:
        out.stdout.write(
            f"batch {batch_id} {data.get('status')}: {done}/{total} lines, {_counts(data).get('failed', 0)} failed; "
            f"{written[0]} output lines in {args.out}"
            + (f", {written[1]} error lines in {args.errors}" if args.errors else f" ({written[1]} errors)")
            + "\n"
        )
    return 0 if data.get("status") == SUCCEEDED else 1


def _why(stopped: BaseException) -> str:
    if isinstance(stopped, KeyboardInterrupt):
        return "interrupted"
    return "timed out" if isinstance(stopped, TimeoutError) else "stopped by an error"


def _write_results(context: Context, batch_id: str) -> tuple[int, int]:
    """The output file's lines into --out, the error file's into --errors (or after them in --out); the counts.

    Each file gets exactly the lines of its source: a line's fields cannot tell (an OpenAI-dialect output
    line carries ``"error": null``).
    """
    args, results = context.args, context.client.batches.results
    with _replacing(args.out) as out_file:
        outputs = _copy(results(batch_id, kind="output"), out_file)
        if args.errors is None:
            return outputs, _copy(results(batch_id, kind="errors"), out_file)
        with _replacing(args.errors) as errors_file:
            return outputs, _copy(results(batch_id, kind="errors"), errors_file)


def _copy(lines: Iterable[Any], file: TextIO) -> int:
    count = 0
    for line in lines:
        file.write(dumps(line) + "\n")
        count += 1
    return count


# --- result files: checked before anything runs, written beside the target and renamed onto it ------


def _check_result_files(args: argparse.Namespace) -> None:
    """A usage error, before any upload or wait, for a result file that could not be written."""
    if args.errors is not None and _real(args.errors) == _real(args.out):
        raise InputError("--errors must name another file than --out (without --errors, both go into --out)")
    for option, path in (("--out", args.out), ("--errors", args.errors)):
        if path is None:
            continue
        target = _real(path)
        try:
            if target.is_dir():
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
            if target.exists() and not os.access(target, os.W_OK):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
            if not _in_place(target):  # the directory must take the file written beside the target
                probe = _part_of(target)
                probe.open("x").close()
                probe.unlink()
        except OSError as error:
            raise InputError(f"cannot write {option} {path}: {error.strerror or error}") from error


def _real(path: Path) -> Path:
    """The path with its symbolic links followed: the file the results replace (the link stays).

    Not for a device or a pipe: /dev/stdout leads to a /proc name that cannot be opened again.
    """
    return path if _in_place(path) else Path(os.path.realpath(path))


def _in_place(target: Path) -> bool:
    """A device or a pipe (/dev/stdout): written in place, there is nothing to rename."""
    return target.exists() and not target.is_file()


def _part_of(target: Path) -> Path:
    return target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")


@contextmanager
def _replacing(path: Path) -> Iterator[TextIO]:
    """A file written beside ``path`` and renamed onto it when complete: a stop never leaves half a file."""
    target = _real(path)
    if _in_place(target):
        with target.open("w", encoding="utf-8") as file:
            yield file
        return
    part = _part_of(target)
    try:
        with part.open("x", encoding="utf-8") as file:
            yield file
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)


def list_batches(context: Context) -> int:
    limit = context.args.limit
    context.out.rows(context.client.batches.list(limit=limit if limit > 0 else None), COLUMNS)
    return 0


def show_batch(context: Context) -> int:
    context.out.record(context.client.batches.get(context.args.id), dict.fromkeys(TIMES, unix_time))
    return 0


def cancel_batch(context: Context) -> int:
    context.out.record(context.client.batches.cancel(context.args.id), dict.fromkeys(TIMES, unix_time))
    return 0
