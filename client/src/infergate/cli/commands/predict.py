"""``infergate predict MODEL key=value ...``: run a model on one input."""

from textwrap import fill

from infergate.cli.context import Context
from infergate.cli.inputs import PAIRS_HELP, build_input
from infergate.cli.parser import Subparsers, command


def register(subparsers: Subparsers) -> None:
    parser = command(
        subparsers,
        "predict",
        help="run a model on one input and print its output",
        description=(
            fill(
                "Run MODEL on one input and print its output (waiting for it), or with --async create the "
                "prediction and print it at once."
            )
            + "\n\n"
            + fill(PAIRS_HELP)
            + "\n\n"
            "examples:\n"
            "  infergate predict sentiment text='What a great day'\n"
            "  infergate predict echo n=3 zip==02134 --input @base.json\n"
            '  infergate predict sentiment --input \'{"text": "fine"}\' --async'
        ),
    )
    parser.add_argument("model", metavar="MODEL", help="the model's name (name:3 or --version for a version)")
    parser.add_argument("pairs", nargs="*", metavar="KEY=VALUE", help="input fields (KEY==VALUE: a string)")
    parser.add_argument(
        "--input",
        "-i",
        metavar="JSON|@FILE|-",
        help="the input object: inline JSON, @file.json, or - for stdin; KEY=VALUE pairs are set on it",
    )
    parser.add_argument("--version", type=int, metavar="N", help="run this version (default: the latest)")
    parser.add_argument(
        "--async", dest="run_async", action="store_true", help="create the prediction, print it, do not wait"
    )
    parser.add_argument(
        "--timeout", type=float, default=60.0, metavar="S", help="give up waiting after S seconds (default 60)"
    )
    parser.set_defaults(handler=run)


def run(context: Context) -> int:
    args = context.args
    data = build_input(args.pairs, args.input, context.stdin)
    client = context.client
    if args.run_async:
        prediction = client.predictions.create(args.model, data, version=args.version)
        context.out.record(prediction)
        if not context.out.json_mode:
            context.out.note(f"follow it with: infergate predictions get {prediction.id}")
        return 0
    output = client.run(args.model, data, version=args.version, timeout=args.timeout)
    context.out.document(output)
    return 0
