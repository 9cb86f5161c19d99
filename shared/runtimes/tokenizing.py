"""A text model's tokenizer, from its checked ``tokenizer.json`` only (``Tokenizer.from_str``; no hub, no files).

Tokenizers may carry regular expressions (``Replace`` normalizers, ``Split`` pre-tokenizers), which the
``tokenizers`` library runs with Oniguruma, a backtracking engine: a tenant's pattern with nested
quantifiers (``(a+)+``) would take exponential time on some texts, and nothing could stop it. So every
pattern must parse with Python's regular-expression parser, hold no backreference, and repeat nothing
that itself repeats or alternates; a tokenizer with any other pattern is refused at registration.
"""

import importlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from tokenizers import Tokenizer

MAX_PATTERN_CHARS = 512
_parser: Any = importlib.import_module("re._parser")  # the stdlib's own parser (sre_parse), no deprecated alias
_REPEATS = frozenset({"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"})
_MAXREPEAT: int = _parser.MAXREPEAT


class TokenizerRefusedError(Exception):
    """``tokenizer.json`` cannot be used (the message is safe to show)."""


@dataclass(frozen=True)
class Encoded:
    """One text's token ids (special tokens included), and the token type ids the tokenizer assigned."""

    ids: list[int]
    type_ids: list[int]


class TextTokenizer:
    """Encodes texts without padding (the runtime pads each micro-batch to its longest member) and truncates
    only when asked, to ``max_tokens``."""

    def __init__(self, document: str, max_tokens: int) -> None:
        parsed = _parse(document)
        check_patterns(parsed)
        try:
            self._whole = Tokenizer.from_str(document)
            self._cut = Tokenizer.from_str(document)
        except Exception as error:  # the Rust library raises plain Exceptions
            raise TokenizerRefusedError("tokenizer.json is not a tokenizer the tokenizers library can load") from error
        self._whole.no_padding()
        self._whole.no_truncation()
        self._cut.no_padding()
        self._cut.enable_truncation(max_tokens)
        self.max_tokens = max_tokens
        self.pad_id = _pad_id(parsed)

    def encode(self, texts: Sequence[str], truncate: bool) -> list[Encoded]:
        """Each text's tokens; with ``truncate`` false a text over ``max_tokens`` keeps all of them (the
        caller refuses it)."""
        whole = self._whole.encode_batch(list(texts), add_special_tokens=True)
        encoded = [Encoded(list(e.ids), list(e.type_ids)) for e in whole]
        if truncate:
            long = [index for index, item in enumerate(encoded) if len(item.ids) > self.max_tokens]
            if long:
                cut = self._cut.encode_batch([texts[index] for index in long], add_special_tokens=True)
                for index, item in zip(long, cut, strict=True):
                    encoded[index] = Encoded(list(item.ids), list(item.type_ids))
        return encoded

    def filler_id(self) -> int:
        """A token id of ordinary text, for generated inputs."""
        ids = self._whole.encode("a", add_special_tokens=False).ids
        return int(ids[0]) if ids else self.pad_id


def _parse(document: str) -> dict[str, Any]:
    try:
        parsed = json.loads(document)
    except (ValueError, RecursionError):
        raise TokenizerRefusedError("tokenizer.json is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise TokenizerRefusedError("tokenizer.json is not a JSON object")
    return parsed


def tokenizer_json(document: str) -> dict[str, Any]:
    """``tokenizer.json`` as JSON (``TokenizerRefusedError`` when it is not an object)."""
    return _parse(document)


def check_patterns(document: Any) -> None:
    """Refuse a tokenizer whose regular expressions could take exponential time (module docstring)."""
    for pattern in _patterns(document):
        if not isinstance(pattern, str) or len(pattern) > MAX_PATTERN_CHARS:
            raise TokenizerRefusedError(f"tokenizer.json has a regular expression over {MAX_PATTERN_CHARS} characters")
        try:
            parsed = _parser.parse(pattern)
        except Exception:  # noqa: BLE001 - re.error and the parser's own faults on odd syntax
            raise TokenizerRefusedError(
                "tokenizer.json has a regular expression this service cannot check (Oniguruma-only syntax)"
            ) from None
        if _nested_repeat(parsed, inside_repeat=False):
            raise TokenizerRefusedError(
                "tokenizer.json has a regular expression with nested repetition or a backreference, which can "
                "take exponential time"
            )


def _patterns(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "Regex":
                yield item
            else:
                yield from _patterns(item)
    elif isinstance(value, list):
        for item in value:
            yield from _patterns(item)


def _nested_repeat(pattern: Any, inside_repeat: bool) -> bool:
    """Whether a repetition holds another repetition or an alternation, or the pattern has a backreference."""
    for op, argument in pattern:
        name = str(op)
        if name in {"GROUPREF", "GROUPREF_EXISTS"}:
            return True
        repeats = name in _REPEATS and (argument[1] == _MAXREPEAT or argument[1] > 1)
        alternates = name == "BRANCH" and len(argument[1]) > 1
        if inside_repeat and (repeats or alternates):
            return True
        if any(_nested_repeat(child, inside_repeat or repeats) for child in _children(name, argument)):
            return True
    return False


def _children(name: str, argument: Any) -> list[Any]:
    """The sub-patterns of one parsed item (the stdlib parser's shapes)."""
    if name in _REPEATS:
        return [argument[2]]
    if name == "BRANCH":
        return list(argument[1])
    if name in {"SUBPATTERN", "ASSERT", "ASSERT_NOT"}:
        return [argument[-1]]
    if name == "ATOMIC_GROUP":
        return [argument]
    return []


def _pad_id(document: dict[str, Any]) -> int:
    padding = document.get("padding")
    if isinstance(padding, dict) and isinstance(padding.get("pad_id"), int) and padding["pad_id"] >= 0:
        return int(padding["pad_id"])
    return 0
