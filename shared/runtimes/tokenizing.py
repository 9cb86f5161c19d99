"""A text model's tokenizer, from its checked ``tokenizer.json`` only (``Tokenizer.from_str``; no hub, no files).

Tokenizers may carry regular expressions (``Replace`` normalizers, ``Split`` pre-tokenizers), which the
``tokenizers`` library runs with Oniguruma, a backtracking engine: a tenant's pattern with nested
quantifiers (``(a+)+``) would take exponential time on some texts, and back-to-back ones (``\\w*\\w*\\w*x``)
polynomial time of a high degree, and nothing could stop it. So every pattern must parse with Python's
regular-expression parser, hold no backreference, repeat nothing that itself repeats or alternates, and
hold at most one unbounded repetition (``*``, ``+``, ``{n,}``, or more than ``MAX_BOUNDED_REPEAT``) along
any alternation branch, with nothing required after it but a negative lookahead (``\\w*[^\\w\\s]`` is
quadratic: from every start the engine backtracks through the whole run); a tokenizer with any other
pattern is refused at registration.

Normalizers rewrite a text before it is split, and a ``Replace`` (or a ``Sequence`` of them) could turn
each character into thousands. Registration bounds how many characters one character can become
(``expansion_factor``) and refuses a tokenizer over ``MAX_EXPANSION``; each call then tokenises at most
``MAX_NORMALIZED_CHARS`` (characters times that factor) at once, and a text over it alone fails.

The library panics (``pyo3_runtime.PanicException``, a ``BaseException``) when Oniguruma gives up on a
text; any failure of a text's tokenisation fails that text alone (``ModelFailure``), never the call.
"""

import base64
import binascii
import importlib
import json
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from tokenizers import Tokenizer

from shared.runtimes.base import ModelFailure

MAX_PATTERN_CHARS = 512
MAX_BOUNDED_REPEAT = 32  # a {n,m} repetition with m above this counts as unbounded
MAX_EXPANSION = 64  # characters one character may become through the normalizers
MAX_NORMALIZED_CHARS = 2_000_000  # characters times the expansion factor tokenised in one library call
TOKENIZING_FAILED = ModelFailure("invalid_input", "The model's tokenizer failed on this text.")
# The most characters one character becomes under each fixed normalizer (measured over every code point
# with unicodedata and str.lower; BertNormalizer: a CJK character gets a space either side, otherwise its
# NFD decomposition, lowercased; ByteLevel: a character's UTF-8 bytes).
_FIXED_EXPANSION = {
    "NFC": 3,
    "NFD": 4,
    "NFKC": 18,
    "NFKD": 18,
    "Lowercase": 2,
    "StripAccents": 1,
    "Strip": 1,
    "Nmt": 1,
    "BertNormalizer": 8,
    "ByteLevel": 4,
}
_T = TypeVar("_T")
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
        self.expansion = check_expansion(parsed)
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

    def encode(self, texts: Sequence[str], truncate: bool) -> list[Encoded | ModelFailure]:
        """Each text's tokens, or why it has none; with ``truncate`` false a text over ``max_tokens`` keeps all
        of them (the caller refuses it)."""
        encoded: list[Encoded | ModelFailure] = [TOKENIZING_FAILED] * len(texts)
        for chunk in self._chunks(texts, encoded):
            items = [texts[index] for index in chunk]
            whole = _encoded_each(self._whole, items) if len(chunk) > 1 else None
            results = whole or [_encoded_one(self._whole, text) for text in items]
            for index, result in zip(chunk, results, strict=True):
                if truncate and isinstance(result, Encoded) and len(result.ids) > self.max_tokens:
                    result = _encoded_one(self._cut, texts[index])
                encoded[index] = result
        return encoded

    def _chunks(self, texts: Sequence[str], encoded: list[Encoded | ModelFailure]) -> list[list[int]]:
        """Consecutive texts within ``MAX_NORMALIZED_CHARS`` once normalised; a text over it alone fails."""
        chunks: list[list[int]] = []
        current: list[int] = []
        budget = MAX_NORMALIZED_CHARS
        for index, text in enumerate(texts):
            size = len(text) * self.expansion
            if size > MAX_NORMALIZED_CHARS:
                limit = MAX_NORMALIZED_CHARS // self.expansion
                encoded[index] = ModelFailure(
                    "input_too_long", f"The text is {len(text):,} characters long; this model reads at most {limit:,}."
                )
                continue
            if current and size > budget:
                chunks.append(current)
                current, budget = [], MAX_NORMALIZED_CHARS
            current.append(index)
            budget -= size
        return [*chunks, current] if current else chunks

    def filler_id(self) -> int:
        """A token id of ordinary text, for generated inputs."""
        item = _guarded(lambda: self._whole.encode("a", add_special_tokens=False))
        return int(item.ids[0]) if item is not None and item.ids else self.pad_id


def _guarded(call: Callable[[], _T]) -> _T | None:
    """``call()``, or None when the library fails in any way, a Rust panic (a ``BaseException``) included."""
    try:
        return call()
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException:  # noqa: BLE001 - pyo3's PanicException derives from BaseException
        return None


def _encoded_each(tokenizer: Tokenizer, texts: list[str]) -> list[Encoded | ModelFailure] | None:
    batch = _guarded(lambda: tokenizer.encode_batch(texts, add_special_tokens=True))
    if batch is None:
        return None
    return [Encoded(list(item.ids), list(item.type_ids)) for item in batch]


def _encoded_one(tokenizer: Tokenizer, text: str) -> Encoded | ModelFailure:
    item = _guarded(lambda: tokenizer.encode(text, add_special_tokens=True))
    return TOKENIZING_FAILED if item is None else Encoded(list(item.ids), list(item.type_ids))


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
        if _unbounded(parsed) > 1:
            raise TokenizerRefusedError(
                f"tokenizer.json has a regular expression with more than one unbounded repetition in a row "
                f"({pattern[:60]!r}), which can take polynomial time of a high degree; keep at most one per "
                "alternative"
            )
        if _repeat_then_required(parsed, followed=False):
            raise TokenizerRefusedError(
                f"tokenizer.json has a regular expression with an unbounded repetition followed by something it "
                f"requires ({pattern[:60]!r}), which takes quadratic time on a long text that lacks it; end each "
                "alternative with its unbounded repetition (only optional parts or a negative lookahead after it)"
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


def _unbounded(pattern: Any) -> int:
    """The most unbounded repetitions one match can pass along a path through ``pattern`` (alternatives are
    separate paths; groups and lookarounds are part of the path they sit on)."""
    count = 0
    for op, argument in pattern:
        name = str(op)
        inner = [_unbounded(child) for child in _children(name, argument)]
        if name == "BRANCH":
            count += max(inner, default=0)
        else:
            unbounded = name in _REPEATS and (argument[1] == _MAXREPEAT or argument[1] > MAX_BOUNDED_REPEAT)
            count += int(unbounded) + sum(inner)
    return count


def _repeat_then_required(pattern: Any, followed: bool) -> bool:
    """Whether an unbounded repetition has, after it in its alternative, an item the match requires (which
    can fail, so the engine backtracks through the whole repetition from every start). ``followed``: the
    enclosing pattern requires something after this one. A lookaround's content is its own match."""
    items = [(str(op), argument) for op, argument in pattern]
    for index, (name, argument) in enumerate(items):
        after = followed or any(_required(*item) for item in items[index + 1 :])
        if name in _REPEATS and (argument[1] == _MAXREPEAT or argument[1] > MAX_BOUNDED_REPEAT) and after:
            return True
        own = name in {"ASSERT", "ASSERT_NOT"}
        if any(_repeat_then_required(child, False if own else after) for child in _children(name, argument)):
            return True
    return False


def _required(name: str, argument: Any) -> bool:
    """Whether one parsed item can fail where it stands (all but an optional repetition and a negative
    lookahead, conservatively)."""
    return not ((name in _REPEATS and argument[0] == 0) or name == "ASSERT_NOT")


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


def check_expansion(document: dict[str, Any]) -> int:
    """How many characters one character can become through the normalizers; ``TokenizerRefusedError`` when
    over ``MAX_EXPANSION`` or not bounded."""
    factor = _expansion(document.get("normalizer"))
    if factor > MAX_EXPANSION:
        raise TokenizerRefusedError(
            f"tokenizer.json's normalizer can turn one character into {factor:,}; at most {MAX_EXPANSION} are "
            "allowed (a Replace or Prepend with long content, or too many of them in a Sequence)"
        )
    return factor


def _expansion(normalizer: Any) -> int:
    if normalizer is None:
        return 1
    kind = normalizer.get("type") if isinstance(normalizer, dict) else None
    if kind in _FIXED_EXPANSION:
        return _FIXED_EXPANSION[str(kind)]
    if kind == "Sequence" and isinstance(normalizer.get("normalizers"), list):
        factor = 1
        for item in normalizer["normalizers"]:
            factor *= _expansion(item)
            if factor > MAX_EXPANSION:
                raise TokenizerRefusedError(
                    f"tokenizer.json's normalizer Sequence can turn one character into more than {MAX_EXPANSION}"
                )
        return factor
    if kind == "Replace":
        return _replace_expansion(normalizer)
    if kind == "Prepend" and isinstance(normalizer.get("prepend"), str):
        return 1 + len(normalizer["prepend"])  # one text of n >= 1 characters becomes at most n + len
    if kind == "Precompiled":
        return _precompiled_expansion(normalizer.get("precompiled_charsmap"))
    raise TokenizerRefusedError(f"tokenizer.json has a normalizer this service cannot bound ({str(kind)[:40]!r})")


def _replace_expansion(normalizer: dict[str, Any]) -> int:
    pattern, content = normalizer.get("pattern"), normalizer.get("content")
    if not isinstance(pattern, dict) or not isinstance(content, str):
        raise TokenizerRefusedError("tokenizer.json has a Replace normalizer without a pattern and content")
    literal = pattern.get("String")
    if isinstance(literal, str) and literal:
        factor = max(1, math.ceil(len(content) / len(literal)))
    else:  # a regular expression may match one character, or even none, at every place
        factor = 1 + len(content)
    if factor > MAX_EXPANSION:
        raise TokenizerRefusedError(
            f"tokenizer.json's Replace normalizer turns {str(literal or pattern.get('Regex'))[:20]!r} into "
            f"{len(content):,} characters; at most {MAX_EXPANSION} per character are allowed"
        )
    return factor


def _precompiled_expansion(charsmap: Any) -> int:
    """A SentencePiece character map: a trie, then the replacement strings it points at, NUL-separated; none
    is longer than the longest of them."""
    try:
        blob = base64.b64decode(charsmap, validate=True) if isinstance(charsmap, str) else b""
    except (binascii.Error, ValueError):
        blob = b""
    if len(blob) < 4:
        raise TokenizerRefusedError("tokenizer.json has a Precompiled normalizer without a readable character map")
    strings = blob[4 + int.from_bytes(blob[:4], "little") :]
    longest = max((len(item.decode("utf-8", "replace")) for item in strings.split(b"\0")), default=0)
    return max(1, longest)


def _pad_id(document: dict[str, Any]) -> int:
    padding = document.get("padding")
    if isinstance(padding, dict) and isinstance(padding.get("pad_id"), int) and padding["pad_id"] >= 0:
        return int(padding["pad_id"])
    return 0
