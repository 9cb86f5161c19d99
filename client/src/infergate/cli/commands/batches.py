"""``infergate batches run|wait|list|show|cancel``: a model over a JSONL file."""

import shlex
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TextIO

from infergate.cli.context import Context
from infergate.cli.inputs import InputError
from infergate.cli.output import Column, dumps, to_data, unix_time
from infergate.cli.parser import Subparsers, command, group
from infergate.cli.progress import BatchProgress

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
    args = context.args
    if not args.file.is_file():
        raise InputError(f"no such file: {args.file}")
    batch = context.client.batches.create(args.model, path=args.file, version=args.version)
    context.out.note(f"batch {batch.id} created ({args.model}, {args.file})")
    return _wait_and_write(context, batch.id)


def wait_batch(context: Context) -> int:
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
    except (KeyboardInterrupt, TimeoutError) as stopped:
        progress.finish()
        why = "interrupted" if isinstance(stopped, KeyboardInterrupt) else "timed out"
        out.note(f"{why}: batch {batch_id} keeps running on the service; nothing is lost.")
        out.note(f"resume with: {_resume_hint(context, batch_id)}")
        raise
    progress.finish()
    data = to_data(batch)
    done, total = _done_total(data)
    for error in ((data.get("errors") or {}).get("data")) or []:
        line = f"line {error['line']}: " if error.get("line") else ""
        out.note(f"  {line}{error.get('code')}: {error.get('message')}")
    written = _write_results(context, batch_id) if data.get("output_url") or data.get("errors_url") else (0, 0)
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


def _write_results(context: Context, batch_id: str) -> tuple[int, int]:
    """The output file's lines into --out, the error file's into --errors (or after them in --out); the counts.

    Each file gets exactly the lines of its source: a line's fields cannot tell (an OpenAI-dialect output
    line carries ``"error": null``).
    """
    args, results = context.args, context.client.batches.results
    with args.out.open("w", encoding="utf-8") as out_file:
        outputs = _copy(results(batch_id, kind="output"), out_file)
        if args.errors is None:
            return outputs, _copy(results(batch_id, kind="errors"), out_file)
        with args.errors.open("w", encoding="utf-8") as errors_file:
            return outputs, _copy(results(batch_id, kind="errors"), errors_file)


def _copy(lines: Iterable[Any], file: TextIO) -> int:
    count = 0
    for line in lines:
        file.write(dumps(line) + "\n")
        count += 1
    return count


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
