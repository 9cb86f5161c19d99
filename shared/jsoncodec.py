"""Canonical compact JSON, used for stored documents and for measuring input sizes."""

import json
import math
from typing import Any

MAX_JSON_DEPTH = 64


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def encoded_size(value: Any) -> int:
    return len(dumps(value).encode("utf-8"))


def plain_json_problem(value: Any) -> str | None:
    """What keeps decoded JSON from being stored as is (NaN/Infinity, lone surrogates, nesting over
    ``MAX_JSON_DEPTH`` levels), phrased to follow "the value ..."; None when there is nothing."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return f"must not nest deeper than {MAX_JSON_DEPTH} levels"
        if isinstance(item, float) and not math.isfinite(item):
            return "must not contain NaN or Infinity"
        if isinstance(item, str) and not _encodable(item):
            return "must be valid Unicode (no lone surrogates)"
        if isinstance(item, dict):
            for key, child in item.items():
                if not _encodable(key):
                    return "must be valid Unicode (no lone surrogates)"
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
