"""Print the OpenAPI document generated from the routers (committed as ``openapi.json``).

``--write`` (what ``make openapi`` runs) rewrites every committed file derived from the routers and
``template.yaml`` instead: ``openapi.json``, the route table of the ``$default`` function and the
functions and timeouts tables of docs/architecture.md (``tools.derived``).
"""

import argparse
import json
import os
import sys
from collections.abc import Sequence


def render() -> str:
    # Imported here: the app imports the generated route table, which `--write` may be writing first.
    from tools.local_api import build_app

    return json.dumps(build_app().openapi(), indent=2, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.openapi", description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite openapi.json and the files derived with it")
    args = parser.parse_args(argv)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    if not args.write:
        sys.stdout.write(render())
        return
    from tools import derived
    from tools.template import ROOT

    for path in derived.write():
        sys.stderr.write(f"wrote {path.relative_to(ROOT)}\n")


if __name__ == "__main__":
    main()
