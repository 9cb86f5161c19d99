"""``infergate models list|show|push``: the model registry."""

import argparse
from pathlib import Path
from typing import Any

from infergate.cli.context import Context
from infergate.cli.inputs import InputError, read_json_argument
from infergate.cli.output import Column, to_data
from infergate.cli.parser import Subparsers, command, group

COLUMNS = (
    Column.key("name"),
    Column.key("latest_version", "LATEST"),
    Column("VERSIONS", lambda row: str(len(row.get("versions") or []))),
    Column.key("description"),
)

VERSION_COLUMNS = (
    Column.key("version"),
    Column.key("runtime"),
    Column("TASK", lambda row: (row.get("text") or {}).get("task") or "-"),
    Column.key("created_at", "CREATED"),
)


def register(subparsers: Subparsers) -> None:
    commands = group(subparsers, "models", help="list, show and push models")
    command(commands, "list", help="the models you can use: built-ins and your own").set_defaults(handler=list_models)
    show = command(commands, "show", help="a model and its versions (--json for their schemas)")
    show.add_argument("name", metavar="NAME", help="the model's name (name:3 for one version)")
    show.add_argument("--version", type=int, metavar="N", help="only this version")
    show.set_defaults(handler=show_model)
    push = command(
        commands,
        "push",
        help="register a file as the model's next version (needs an admin key)",
        description=(
            "Upload PATH and register it as NAME's next version: an .onnx graph (with --input-schema and "
            "--output-schema), or a text model's .tar.gz/.zip export (with --task). Prints the new version."
        ),
    )
    push.add_argument("name", metavar="NAME")
    push.add_argument("path", metavar="PATH", type=Path, help="the .onnx file, or a text model's .tar.gz/.zip")
    push.add_argument("--input-schema", metavar="JSON|@FILE", help="the input's JSON Schema")
    push.add_argument("--output-schema", metavar="JSON|@FILE", help="the output's JSON Schema")
    push.add_argument("--description", help="a description of the model")
    push.add_argument(
        "--content-type", metavar="TYPE", help="the file's media type (default: from its name, as the library does)"
    )
    text = push.add_argument_group("text models (a tokenizer-bundled export)")
    text.add_argument("--task", choices=("feature-extraction", "text-classification"))
    text.add_argument("--pooling", choices=("mean", "cls", "model"))
    text.add_argument("--normalize", action=argparse.BooleanOptionalAction, default=None)
    text.add_argument("--activation", choices=("softmax", "sigmoid"))
    text.add_argument("--top-k", type=int, metavar="K")
    text.add_argument("--max-tokens", type=int, metavar="N")
    push.set_defaults(handler=push_model)


def list_models(context: Context) -> int:
    context.out.rows(context.client.models.list(), COLUMNS)
    return 0


def show_model(context: Context) -> int:
    model = context.client.models.get(context.args.name, version=context.args.version)
    out = context.out
    if out.json_mode:
        out.document(model)
        return 0
    data = to_data(model)
    versions = data.pop("versions", [])
    out.record(data)
    if versions:
        out.stdout.write("\n")
        out.rows(versions, VERSION_COLUMNS)
    return 0


def _schema(argument: str | None, what: str) -> dict[str, Any] | None:
    if argument is None:
        return None
    schema = read_json_argument(argument, what)
    if not isinstance(schema, dict):
        raise InputError(f"{what} must be a JSON object")
    return schema


def push_model(context: Context) -> int:
    args = context.args
    if not args.path.is_file():
        raise InputError(f"no such file: {args.path}")
    text_options = {
        key: value
        for key, value in {
            "task": args.task,
            "pooling": args.pooling,
            "normalize": args.normalize,
            "activation": args.activation,
            "top_k": args.top_k,
            "max_tokens": args.max_tokens,
        }.items()
        if value is not None
    }
    if text_options and "task" not in text_options:
        raise InputError("text model options need --task")
    version = context.client.models.push(
        args.name,
        args.path,
        input_schema=_schema(args.input_schema, "--input-schema"),
        output_schema=_schema(args.output_schema, "--output-schema"),
        description=args.description or "",
        text=text_options or None,
        content_type=args.content_type,
    )
    context.out.record(version)
    if not context.out.json_mode:
        context.out.note(f"registered {args.name}:{version.version}")
    return 0
