"""Register your own text model from a folder written by ``optimum-cli export onnx``, in one step.

    python -m tools.import_model ./minilm --name my-embedder --task feature-extraction --pooling mean --normalize \\
        --base-url https://api.example.com --api-key igk_...     # or INFERGATE_BASE_URL / INFERGATE_API_KEY
    python -m tools.import_model ./sst2 --name my-sentiment --task text-classification --top-k 2 --local

The folder's model files are packed into a ``.tar.gz`` (what the service does not take is skipped with
a note), checked against the service's own archive rules and limits, uploaded (``POST /v1/uploads``,
then a ``PUT`` to the presigned URL) and registered as the model's next version (``POST
/v1/models/{name}/versions``, ``runtime: text``). The registered version is printed as JSON.

``--local`` acts on the running ``make dev`` stack: its URL from the stack's state file, and, unless a
key is given, an admin key of ``--tenant`` (default ``local``) minted for the import and revoked after.

Exit status: 0 registered; 1 the service refused it (its problem detail is shown) or could not be
reached; 2 a usage error, or a folder the service would refuse (nothing was uploaded).
"""

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

from infergate import APIConnectionError, APIError, Infergate
from infergate.admin import Admin, AdminError, AdminTarget

from shared.kernel.errors import InvalidRequestError
from shared.keys.models import InvalidTenantError
from shared.registry.models import ModelRef
from shared.registry.text import TASKS, Activation, Pooling, TextOptions
from tools.devstack import DEV_TENANT, STATE_FILE
from tools.export_archive import CONTENT_TYPE, ExportRefusedError, PackedExport, pack_export
from tools.stack_target import UsageError, local_state, logs_to_stderr

REGISTRATION_TIMEOUT = 60.0  # registration loads and runs the model: up to the API's 29 s
BASE_URL_VARIABLE = "INFERGATE_BASE_URL"
API_KEY_VARIABLE = "INFERGATE_API_KEY"
_FEATURE_EXTRACTION_ONLY = ("pooling", "normalize")
_CLASSIFICATION_ONLY = ("activation", "top_k")


@dataclass(frozen=True)
class Imported:
    packed: PackedExport
    version: dict[str, Any]  # the registered version, as the service answered it


def import_text_model(
    base_url: str,
    api_key: str,
    folder: Path,
    name: str,
    options: TextOptions,
    *,
    description: str = "",
    graph: str | None = None,
    on_packed: Callable[[PackedExport], None] | None = None,
) -> Imported:
    """Pack ``folder``, upload it and register it as the next version of ``name``.

    Raises ``ExportRefusedError`` before anything is sent when the service would refuse the folder, and
    the client's ``APIError`` (with the service's problem document) when the service refuses a call. ``on_packed`` is
    told what was packed (and skipped) before the upload starts.
    """
    try:
        ModelRef.parse_name(name)
    except InvalidRequestError as invalid:
        raise ExportRefusedError(str(invalid)) from None
    packed = pack_export(folder, options, graph)
    if on_packed is not None:
        on_packed(packed)
    with Infergate(base_url, api_key, timeout=REGISTRATION_TIMEOUT) as client:
        version = client.models.push(
            name, packed.data, text=text_request(options), description=description, content_type=CONTENT_TYPE
        )
    return Imported(packed, version.model_dump(mode="json"))


def text_request(options: TextOptions) -> dict[str, Any]:
    """The registration's ``text`` object: the task and the options that apply to it."""
    body: dict[str, Any] = {"task": options.task}
    if options.task == "feature-extraction":
        body |= {"pooling": options.pooling, "normalize": options.normalize}
    else:
        body |= {"activation": options.activation, "top_k": options.top_k}
    if options.max_tokens is not None:
        body["max_tokens"] = options.max_tokens
    return body


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="python -m tools.import_model",
        description=__doc__.splitlines()[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    root.add_argument("folder", type=Path, help="the folder optimum-cli export onnx wrote")
    root.add_argument("--name", required=True, help="the model's name (a new model, or its next version)")
    root.add_argument("--task", required=True, choices=TASKS)
    root.add_argument("--pooling", choices=get_args(Pooling), help="feature-extraction (default mean)")
    root.add_argument(
        "--normalize", action=argparse.BooleanOptionalAction, help="feature-extraction: L2-normalise (default no)"
    )
    root.add_argument("--activation", choices=get_args(Activation), help="text-classification (default softmax)")
    root.add_argument("--top-k", type=int, help="text-classification: labels returned by default (default 1)")
    root.add_argument("--max-tokens", type=int, help="lower the longest input the model's files allow")
    root.add_argument("--graph", help="the .onnx file to serve when the folder holds several (default model.onnx)")
    root.add_argument("--description", default="")
    where = root.add_mutually_exclusive_group()
    where.add_argument("--base-url", help=f"the API's base URL (default ${BASE_URL_VARIABLE})")
    where.add_argument("--local", action="store_true", help="the running local stack (make dev)")
    root.add_argument("--api-key", help=f"an admin key (default ${API_KEY_VARIABLE}; with --local, a temporary one)")
    root.add_argument("--tenant", default=DEV_TENANT, help="--local without a key: the tenant to register for")
    return root


def options_of(args: argparse.Namespace) -> TextOptions:
    """The declared task and options; an option of the other task is a usage error."""
    other = _CLASSIFICATION_ONLY if args.task == "feature-extraction" else _FEATURE_EXTRACTION_ONLY
    given = [f"--{option.replace('_', '-')}" for option in other if getattr(args, option) is not None]
    if given:
        raise UsageError(f"{', '.join(given)} does not apply to {args.task}")
    declared = {
        option: getattr(args, option)
        for option in (*_FEATURE_EXTRACTION_ONLY, *_CLASSIFICATION_ONLY, "max_tokens")
        if getattr(args, option) is not None
    }
    return TextOptions(task=args.task, **declared)


@contextmanager
def target(args: argparse.Namespace) -> Iterator[tuple[str, str]]:
    """The base URL and the API key to use, for the duration of the import."""
    key = args.api_key or os.environ.get(API_KEY_VARIABLE)
    if not args.local:
        base_url = args.base_url or os.environ.get(BASE_URL_VARIABLE)
        if not base_url:
            raise UsageError(f"say where: --base-url (or ${BASE_URL_VARIABLE}) or --local")
        if not key:
            raise UsageError(f"an admin key is needed: --api-key (or ${API_KEY_VARIABLE})")
        yield base_url, key
        return
    base_url = str(local_state()["base_url"])
    if key:
        yield base_url, key
        return
    with _temporary_admin_key(base_url, args.tenant) as minted:
        yield base_url, minted


@contextmanager
def _temporary_admin_key(base_url: str, tenant: str) -> Iterator[str]:
    """An admin key of ``tenant``, minted by the local stack's admin function as an operator would, and
    revoked over the API when the import is over."""
    minted = Admin(AdminTarget.local(STATE_FILE)).mint_key(tenant, "import_model (temporary)", ["admin"])
    try:
        yield str(minted["key"])
    finally:
        with Infergate(base_url, str(minted["key"])) as client:
            client.keys.revoke(str(minted["id"]))


def _report_packed(packed: PackedExport) -> None:
    for skipped, why in packed.skipped:
        sys.stderr.write(f"note: skipped {skipped}: {why}\n")
    sys.stderr.write(f"packed {', '.join(packed.members)} ({len(packed.data):,} bytes, sha256 {packed.sha256})\n")


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        options = options_of(args)
        with target(args) as (base_url, api_key):
            imported = import_text_model(
                base_url,
                api_key,
                args.folder,
                args.name,
                options,
                description=args.description,
                graph=args.graph,
                on_packed=_report_packed,
            )
    except (UsageError, InvalidTenantError, ExportRefusedError, AdminError) as problem:
        sys.stderr.write(f"error: {problem}\n")
        return 2
    except APIError as refused:
        document = json.dumps(refused.problem.model_dump(mode="json", exclude_none=True), indent=2, ensure_ascii=False)
        sys.stderr.write(f"error: {refused}\n{document}\n")
        return 1
    except APIConnectionError as unreachable:
        sys.stderr.write(f"error: the service could not be reached: {unreachable}\n")
        return 1
    sys.stdout.write(json.dumps(imported.version, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    logs_to_stderr()
    raise SystemExit(main())
