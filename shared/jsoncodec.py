"""Canonical compact JSON, used for stored documents and for measuring input sizes."""

import json
from typing import Any


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def encoded_size(value: Any) -> int:
    return len(dumps(value).encode("utf-8"))
