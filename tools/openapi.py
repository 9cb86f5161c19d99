"""Print the OpenAPI document generated from the routers (committed as ``openapi.json``)."""

import json
import os
import sys

from tools.local_api import build_app


def render() -> str:
    return json.dumps(build_app().openapi(), indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    sys.stdout.write(render())


if __name__ == "__main__":
    main()
