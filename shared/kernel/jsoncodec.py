"""Canonical compact JSON, used for stored documents and for measuring input sizes; and the one strict
decoder of what callers send (request bodies, infer request headers, batch lines)."""

import json
import math
from typing import Any

MAX_JSON_DEPTH = 64
_SHOWN_KEY_CHARS = 64  # a duplicated key is named in errors, cut to this length (it is the caller's text)


class DuplicateKeyError(json.JSONDecodeError):
    """An object names the same member twice. RFC 8259 leaves the meaning open (most parsers keep the
    last, some the first), so such a document is refused rather than read one way here and another way
    by whoever checked it. A ``JSONDecodeError``, so every caller that refuses malformed JSON refuses it.
    """

    def __init__(self, key: str, pointer: str) -> None:
        self.key = _shown(key)
        self.pointer = pointer
        super().__init__(f"the key {json.dumps(self.key)} appears more than once in one object (at {pointer})", "", 0)


def loads(document: str | bytes, **options: Any) -> Any:
    """``json.loads`` (same ``options``), refusing objects with duplicate keys (``DuplicateKeyError``).

    The check is a C ``dict()`` plus a length comparison per object; where the duplicate is, is worked
    out by a second parse only when there is one.
    """
    try:
        return json.loads(document, object_pairs_hook=_unique_keys, **options)
    except _DuplicateFoundError:
        raise _locate_duplicate(document, options) from None


class _DuplicateFoundError(Exception):
    """Raised by the fast pass; ``loads`` turns it into a ``DuplicateKeyError`` naming key and place."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _DuplicateFoundError
    return obj


class _Marked(dict[str, Any]):
    """An object parsed by the locating pass; ``duplicate`` is its first repeated key, if any."""

    duplicate: str | None = None


def _marking(pairs: list[tuple[str, Any]]) -> _Marked:
    obj = _Marked(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                obj.duplicate = key
                break
            seen.add(key)
    return obj


def _locate_duplicate(document: str | bytes, options: dict[str, Any]) -> DuplicateKeyError:
    parsed = json.loads(document, object_pairs_hook=_marking, **options)
    stack: list[tuple[Any, str]] = [(parsed, "")]
    while stack:
        value, pointer = stack.pop()
        if isinstance(value, _Marked):
            if value.duplicate is not None:
                return DuplicateKeyError(value.duplicate, f"{pointer}/{_escaped(value.duplicate)}")
            stack.extend((child, f"{pointer}/{_escaped(key)}") for key, child in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((child, f"{pointer}/{index}") for index, child in reversed(list(enumerate(value))))
    raise AssertionError("a duplicate key was seen but not found again")  # pragma: no cover


def _shown(key: str) -> str:
    return key if len(key) <= _SHOWN_KEY_CHARS else key[:_SHOWN_KEY_CHARS] + "…"


def _escaped(key: str) -> str:
    return _shown(key).replace("~", "~0").replace("/", "~1")


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
