"""What a tenant's JSON Schema may be: the rules registration checks, and evaluation re-checks.

A model version's schemas come from a tenant admin, so they are hostile. Registration refuses (and,
for versions stored before these rules, evaluation fails closed on) any schema that:

- is over ``MAX_SCHEMA_BYTES`` as compact JSON (the version's item must fit DynamoDB's 400 KB).
- leaves its own document. Every ``$ref`` and ``$dynamicRef`` is a fragment (``#``, ``#/pointer``,
  ``#anchor``) that resolves to a subschema of the same document; ``$id`` is refused (a schema has
  no base URI of its own to resolve against) and ``$schema`` is only draft 2020-12, only at the
  root.
- cannot be evaluated: a subschema that comes back to itself without descending into the value
  (``{"$ref": "#"}``), a reference to something that is not a subschema, or one value checked
  against more than ``MAX_SUBSCHEMAS_PER_VALUE`` subschemas (nested ``allOf`` of references grow
  exponentially).
- has a ``pattern`` (or ``patternProperties`` name) that RE2 cannot compile within ``RE2_MAX_MEM``
  (backreferences, lookaround, bad syntax), or whose program is over ``MAX_PATTERN_PROGRAM_SIZE``
  instructions: a search costs up to the text's length times that. ``format`` is an annotation only, so
  ``format: regex`` compiles nothing.

How a schema that passes is evaluated, within bounds, is ``shared.registry.schemas``.
jsonschema, referencing and re2 are imported on first use: most functions never check a schema.
"""

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from shared.kernel.jsoncodec import plain_json_problem

DIALECT = "https://json-schema.org/draft/2020-12/schema"
MAX_SUBSCHEMAS_PER_VALUE = 1_000
# Bytes of one schema as compact JSON (ASCII-escaped, as ``canonical`` writes it and the store keeps
# it): two schemas, the graph's tensors and the description stay well within DynamoDB's 400 KB item.
MAX_SCHEMA_BYTES = 64 * 1024
RE2_MAX_MEM = 1 << 20  # bytes RE2 may use for one compiled pattern (program and DFA cache)
# Instructions of a pattern's RE2 program (the larger of its forward and reverse programs). Ordinary
# patterns are far below: an email or a date 12-45, '^[a-z0-9][a-z0-9_-]{0,63}$' 319,
# '^[\p{L}\p{N}]+$' 1,765, '^[^\s]{1,255}$' 2,806, '^.{1,500}$' 4,501. Bounded repetitions multiply:
# 'a.{0,999}b' is 8,997, '(?i)^[a-z]{1,1000}$' 7,001, '^\p{L}{1,20}$' 24,061 (maxLength says it cheaper).
MAX_PATTERN_PROGRAM_SIZE = 5_000
SHOWN_POINTER_CHARS = 120  # a pointer quoted in a refusal is cut to this (a pattern can be 60 KB long)

# Where draft 2020-12 keeps subschemas (the table referencing crawls, too). "In place" subschemas
# apply to the same value as their parent; the others to a member or item of it, or to nothing
# until a reference reaches them.
_IN_PLACE_ONE = frozenset({"not", "if", "then", "else"})
_IN_PLACE_ARRAYS = frozenset({"allOf", "anyOf", "oneOf"})
_IN_PLACE_MAPS = frozenset({"dependentSchemas"})
_OTHER_ONE = frozenset(
    {"additionalProperties", "items", "contains", "propertyNames", "unevaluatedItems", "unevaluatedProperties"}
    | {"contentSchema"}
)
_OTHER_ARRAYS = frozenset({"prefixItems"})
_OTHER_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions"})
REFERENCES = ("$ref", "$dynamicRef")
_ANCHORS = ("$anchor", "$dynamicAnchor")


class UnusableSchemaError(Exception):
    """The schema cannot be registered, or a value cannot be evaluated against it.

    ``pointer`` is where in the schema (``""`` for the whole schema or for an evaluation that ran
    out of budget); ``reason`` is safe to show the tenant (it never quotes the value evaluated)."""

    def __init__(self, pointer: str, reason: str) -> None:
        pointer = _shown(pointer)
        super().__init__(f"{pointer or '/'}: {reason}")
        self.pointer = pointer
        self.reason = reason


def _shown(pointer: str) -> str:
    return pointer if len(pointer) <= SHOWN_POINTER_CHARS else pointer[: SHOWN_POINTER_CHARS - 3] + "..."


def check_schema(schema: Mapping[str, Any]) -> None:
    """Raise ``UnusableSchemaError`` unless every rule above holds."""
    problem = schema_problem(canonical(schema))
    if problem is not None:
        raise UnusableSchemaError(*problem)


def canonical(schema: Mapping[str, Any]) -> str:
    return json.dumps(schema, sort_keys=True, separators=(",", ":"))


@lru_cache(maxsize=128)
def schema_problem(text: str) -> tuple[str, str] | None:
    """(pointer, reason) of the first rule the schema breaks, or None. A few milliseconds a schema;
    kept per container, so a stored schema that breaks a rule is judged once, not at every input."""
    if len(text) > MAX_SCHEMA_BYTES:
        return "", f"is {len(text):,} bytes as compact JSON; a schema may have at most {MAX_SCHEMA_BYTES:,}"
    schema = json.loads(text)
    shape = plain_json_problem(schema)
    if shape is not None:
        return "", shape
    if not isinstance(schema, dict):
        return "", "must be a JSON object"
    try:
        return _meta_schema_problem(schema) or _SchemaGraph(schema).problem()
    except Exception:  # noqa: BLE001 - a schema the checks themselves choke on is refused, never a 500
        return "", "could not be checked"


def _meta_schema_problem(schema: dict[str, Any]) -> tuple[str, str] | None:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    try:
        Draft202012Validator.check_schema(schema, format_checker=_meta_format_checker())
    except SchemaError as error:
        return _pointer(error.absolute_path), f"fails the '{error.validator}' rule of JSON Schema"
    return None


@cache
def _meta_format_checker() -> Any:
    """The meta-schema's format checks, less ``regex``: jsonschema would compile the tenant's patterns
    with Python's ``re``; RE2 judges them instead (``_regex_problem``)."""
    from jsonschema import Draft202012Validator, FormatChecker

    return FormatChecker(name for name in Draft202012Validator.FORMAT_CHECKER.checkers if name != "regex")


@dataclass
class _Node:
    pointer: str
    schema: dict[str, Any]
    same_value: list[tuple[str, str]]  # (pointer of the subschema applied to the same value, via)


class _SchemaGraph:
    """Every subschema of one document, the references between them, and the rules on both."""

    def __init__(self, root: dict[str, Any]) -> None:
        self._root = root
        self._nodes: dict[int, _Node] = {}
        self._anchors: set[str] = set()

    def problem(self) -> tuple[str, str] | None:
        return self._walk() or self._resolve_references() or self._endless_or_explosive()

    def _walk(self) -> tuple[str, str] | None:
        pending: list[tuple[str, Any]] = [("", self._root)]
        while pending:
            pointer, schema = pending.pop()
            if not isinstance(schema, dict):
                continue  # a boolean schema (the meta-schema allows nothing else here)
            node = _Node(pointer, schema, [])
            self._nodes[id(schema)] = node
            problem = self._keyword_problem(node)
            if problem is not None:
                return problem
            for where, subschema, same_value in _subschemas(schema):
                pending.append((pointer + where, subschema))
                if same_value and isinstance(subschema, dict):
                    node.same_value.append((pointer + where, pointer + where))
        return None

    def _keyword_problem(self, node: _Node) -> tuple[str, str] | None:
        schema, pointer = node.schema, node.pointer
        if "$id" in schema:
            return pointer + "/$id", "is not supported: a model's schema is one self-contained document"
        if "$schema" in schema and (pointer != "" or schema["$schema"].rstrip("#") != DIALECT):
            return pointer + "/$schema", f"must be '{DIALECT}', and only at the root"
        for keyword in _ANCHORS:
            if keyword in schema:
                if schema[keyword] in self._anchors:
                    return f"{pointer}/{keyword}", "names an anchor another subschema already has"
                self._anchors.add(schema[keyword])
        for keyword in REFERENCES:
            if keyword in schema and not schema[keyword].startswith("#"):
                return (
                    f"{pointer}/{keyword}",
                    "leaves this schema: references must be '#', '#/<pointer>' or '#<anchor>'",
                )
        if "pattern" in schema:
            reason = _regex_problem(schema["pattern"])
            if reason is not None:
                return pointer + "/pattern", reason
        for name in schema.get("patternProperties", {}):
            reason = _regex_problem(name)
            if reason is not None:
                return f"{pointer}/patternProperties/{_escape(name)}", reason
        return None

    def _resolve_references(self) -> tuple[str, str] | None:
        """Resolve each reference exactly as evaluation will (referencing, nothing retrievable)."""
        from referencing import Registry
        from referencing.jsonschema import DRAFT202012

        resolver = Registry().resolver_with_root(DRAFT202012.create_resource(self._root))
        for node in list(self._nodes.values()):
            for keyword in REFERENCES:
                if keyword not in node.schema:
                    continue
                where = f"{node.pointer}/{keyword}"
                try:
                    target = resolver.lookup(node.schema[keyword]).contents
                except Exception:  # noqa: BLE001 - unresolvable, or a malformed pointer (ValueError)
                    return where, "does not resolve to a subschema of this schema"
                if isinstance(target, bool):
                    continue
                found = self._nodes.get(id(target))
                if found is None:
                    return where, "must point to a subschema (under '$defs', 'properties', ...), not to other data"
                node.same_value.append((found.pointer, where))
        return None

    def _endless_or_explosive(self) -> tuple[str, str] | None:
        """A cycle of subschemas applied to one value never ends; a long chain of fan-outs is exponential.

        Depth-first over the same-value edges, without recursion (chains can be long)."""
        by_pointer = {node.pointer: node for node in self._nodes.values()}
        cost: dict[str, int] = {}  # subschemas applied to one value, from here down
        on_path: set[str] = set()
        for start in by_pointer:
            if start in cost:
                continue
            stack: list[tuple[str, Iterator[tuple[str, str]]]] = [(start, iter(by_pointer[start].same_value))]
            on_path.add(start)
            while stack:
                pointer, edges = stack[-1]
                step = next(edges, None)
                if step is None:
                    stack.pop()
                    on_path.discard(pointer)
                    total = 1 + sum(cost[target] for target, _ in by_pointer[pointer].same_value)
                    if total > MAX_SUBSCHEMAS_PER_VALUE:
                        return pointer, f"applies more than {MAX_SUBSCHEMAS_PER_VALUE} subschemas to one value"
                    cost[pointer] = total
                    continue
                target, via = step
                if target in on_path:
                    return via, "comes back to a schema applied to the same value without descending into it"
                if target not in cost:
                    on_path.add(target)
                    stack.append((target, iter(by_pointer[target].same_value)))
        return None


def _subschemas(schema: dict[str, Any]) -> Iterator[tuple[str, Any, bool]]:
    """(pointer below ``schema``, subschema, whether it applies to the same value) for each subschema."""
    for keyword, value in schema.items():
        if keyword in _IN_PLACE_ONE or keyword in _OTHER_ONE:
            yield f"/{keyword}", value, keyword in _IN_PLACE_ONE
        elif (keyword in _IN_PLACE_ARRAYS or keyword in _OTHER_ARRAYS) and isinstance(value, list):
            for index, item in enumerate(value):
                yield f"/{keyword}/{index}", item, keyword in _IN_PLACE_ARRAYS
        elif (keyword in _IN_PLACE_MAPS or keyword in _OTHER_MAPS) and isinstance(value, dict):
            for name, item in value.items():
                yield f"/{keyword}/{_escape(name)}", item, keyword in _IN_PLACE_MAPS


_SHOWN_DETAIL_CHARS = 60  # RE2 quotes the offending part of the pattern; a refusal shows this much of it


def _regex_problem(pattern: str) -> str | None:
    try:
        regex = compiled_pattern(pattern)
    except Exception as error:  # noqa: BLE001 - re2.error, or a pattern over RE2_MAX_MEM
        return _compile_problem(error)
    size = program_size(regex)
    if size > MAX_PATTERN_PROGRAM_SIZE:
        return (
            f"is too large for RE2: it compiles to {size:,} instructions, at most {MAX_PATTERN_PROGRAM_SIZE:,} "
            "are allowed (bounded repetitions such as '.{0,999}' multiply a pattern; 'maxLength' bounds a length)"
        )
    return None


def _compile_problem(error: Exception) -> str:
    raw = error.args[0] if error.args else b""
    detail = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    if "pattern too large" in detail:
        return f"is too large for RE2: it needs more than {RE2_MAX_MEM:,} bytes compiled"
    shown = detail if len(detail) <= _SHOWN_DETAIL_CHARS else detail[: _SHOWN_DETAIL_CHARS - 3] + "..."
    reason = "is not a regular expression RE2 can take" + (f" ({shown})" if shown else "")
    backreference = detail.startswith("invalid escape sequence: \\") and detail[-1:].isdigit()
    if backreference or detail.startswith("invalid perl operator: (?"):
        return reason + ": backreferences and lookaround are not supported"
    return reason


@lru_cache(maxsize=256)
def compiled_pattern(pattern: str) -> Any:
    import re2

    options = re2.Options()
    options.max_mem = RE2_MAX_MEM
    options.log_errors = False
    # Validation only asks whether a pattern matches: with capturing groups RE2 would track every
    # group's position at every byte (1,600 groups made one search of 8 KB take 45 s).
    options.never_capture = True
    return re2.compile(pattern, options)


def program_size(regex: Any) -> int:
    """Instructions of a compiled pattern's larger program (RE2 runs the reverse one to find a match's start)."""
    return max(int(regex.programsize), int(regex.reverseprogramsize))


def _pointer(path: Any) -> str:
    return "".join(f"/{_escape(part)}" for part in path)


def _escape(part: object) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")
