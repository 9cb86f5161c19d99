"""``infergate predictions list|get|cancel``."""

import itertools

from infergate.cli.context import Context
from infergate.cli.output import Column
from infergate.cli.parser import Subparsers, command, group

STATUSES = ("starting", "processing", "succeeded", "failed", "canceled")

COLUMNS = (
    Column.key("id"),
    Column.key("model"),
    Column.key("version"),
    Column.key("status"),
    Column.key("created_at", "CREATED"),
)


def register(subparsers: Subparsers) -> None:
    commands = group(subparsers, "predictions", help="list, show and cancel asynchronous predictions")
    listing = command(commands, "list", help="your predictions, newest first")
    listing.add_argument("--status", choices=STATUSES, help="only predictions with this status")
    listing.add_argument(
        "--limit", type=int, default=20, metavar="N", help="show at most N predictions (default 20; 0: all)"
    )
    listing.set_defaults(handler=list_predictions)
    get = command(commands, "get", help="one prediction")
    get.add_argument("id", metavar="ID")
    get.set_defaults(handler=get_prediction)
    cancel = command(commands, "cancel", help="cancel a prediction (a finished one is shown unchanged)")
    cancel.add_argument("id", metavar="ID")
    cancel.set_defaults(handler=cancel_prediction)


def list_predictions(context: Context) -> int:
    args = context.args
    limit = args.limit if args.limit > 0 else None
    if args.status is None:
        context.out.rows(context.client.predictions.list(limit=limit), COLUMNS)
        return 0
    # The API has no status filter: read pages until enough predictions have this status.
    found = (p for p in context.client.predictions.list(page_size=100) if p.status == args.status)
    context.out.rows(found if limit is None else itertools.islice(found, limit), COLUMNS)
    return 0


def get_prediction(context: Context) -> int:
    context.out.record(context.client.predictions.get(context.args.id))
    return 0


def cancel_prediction(context: Context) -> int:
    context.out.record(context.client.predictions.cancel(context.args.id))
    return 0
