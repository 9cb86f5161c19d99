"""Tenant JSON Schemas: the one place that checks them and builds the validators that evaluate them.

A model version's schemas come from a tenant admin, so they are hostile. Registration refuses (and,
for versions stored before these rules, evaluation fails closed on) any schema that:

- leaves its own document. Every ``$ref`` and ``$dynamicRef`` is a fragment (``#``, ``#/pointer``,
  ``#anchor``) that resolves to a subschema of the same document; ``$id`` is refused (a schema has
  no base URI of its own to resolve against) and ``$schema`` is only draft 2020-12, only at the
  root. Validators are built with a ``referencing.Registry`` that retrieves nothing, so no schema can
  make the service open a URL or a file, whatever got stored.
- cannot be evaluated: a subschema that comes back to itself without descending into the value
  (``{"$ref": "#"}``), a reference to something that is not a subschema, or one value checked
  against more than ``MAX_SUBSCHEMAS_PER_VALUE`` subschemas (nested ``allOf`` of references grow
  exponentially).
- has a ``pattern`` (or ``patternProperties`` name) that RE2 cannot compile within ``RE2_MAX_MEM``
  (backreferences, lookaround). Every pattern is matched with RE2, in time linear in the text:
  ``pattern``, ``patternProperties``, and the pattern matching inside ``additionalProperties`` and
  ``unevaluatedProperties``, which jsonschema would otherwise do with Python's backtracking ``re``.
  ``format`` is an annotation only (no format checker), so ``format: regex`` compiles nothing.

Evaluating one value is bounded too: ``BASE_KEYWORD_EVALUATIONS`` keyword evaluations plus
``KEYWORD_EVALUATIONS_PER_BYTE`` per byte of the value, and ``uniqueItems`` compares items by hashing,
not pairwise. Any failure to evaluate is ``UnusableSchemaError``, the input's own error.

jsonschema, referencing and re2 are imported on first use: most functions never evaluate a schema.
"""

import json
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, Protocol

from shared.jsoncodec import plain_json_problem

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

DIALECT = "https://json-schema.org/draft/2020-12/schema"
# Keyword evaluations one value may take: a base, plus some per byte of the value (as JSON). A
# 256 KiB array of small numbers checked for type and range needs about one per byte; the base keeps a
# small input from paying for a schema whose work grows exponentially with its nesting.
BASE_KEYWORD_EVALUATIONS = 100_000
KEYWORD_EVALUATIONS_PER_BYTE = 4
MAX_SUBSCHEMAS_PER_VALUE = 1_000
RE2_MAX_MEM = 1 << 20  # bytes RE2 may use for one compiled pattern (program and DFA cache)

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
_REFERENCES = ("$ref", "$dynamicRef")
_ANCHORS = ("$anchor", "$dynamicAnchor")


class UnusableSchemaError(Exception):
    """The schema cannot be registered, or a value cannot be evaluated against it.

    ``pointer`` is where in the schema (``""`` for the whole schema or for an evaluation that ran
    out of budget); ``reason`` is safe to show the tenant (it never quotes the value evaluated)."""

    def __init__(self, pointer: str, reason: str) -> None:
        super().__init__(f"{pointer or '/'}: {reason}")
        self.pointer = pointer
        self.reason = reason


def check_schema(schema: Mapping[str, Any]) -> None:
    """Raise ``UnusableSchemaError`` unless every rule above holds."""
    problem = _problem(_canonical(schema))
    if problem is not None:
        raise UnusableSchemaError(*problem)


def validation_errors(schema: Mapping[str, Any], instance: Any) -> list["ValidationError"]:
    """Every way ``instance`` breaks ``schema``; ``UnusableSchemaError`` when that cannot be told."""
    canonical = _canonical(schema)
    problem = _problem(canonical)
    if problem is not None:
        raise UnusableSchemaError(*problem)
    validator = _validator(canonical)
    size = len(json.dumps(instance, separators=(",", ":"), default=str))
    token = _BUDGET.set(_Budget(BASE_KEYWORD_EVALUATIONS + KEYWORD_EVALUATIONS_PER_BYTE * size))
    try:
        return list(validator.iter_errors(instance))
    except _BudgetSpentError:
        raise UnusableSchemaError("", "checking this value against the schema takes too many steps") from None
    except RecursionError:
        raise UnusableSchemaError("", "the value nests too deeply to be checked against the schema") from None
    except Exception:  # noqa: BLE001 - whatever the schema does, it is this value's error, never a 500
        raise UnusableSchemaError("", "the schema could not be evaluated for this value") from None
    finally:
        _BUDGET.reset(token)


def _canonical(schema: Mapping[str, Any]) -> str:
    return json.dumps(schema, sort_keys=True, separators=(",", ":"))


# --- The static check -------------------------------------------------------------------------


@lru_cache(maxsize=128)
def _problem(canonical: str) -> tuple[str, str] | None:
    """(pointer, reason) of the first rule the schema breaks, or None. A few milliseconds a schema;
    kept per container, so a stored schema that breaks a rule is judged once, not at every input."""
    schema = json.loads(canonical)
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
        for keyword in _REFERENCES:
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
            for keyword in _REFERENCES:
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


def _regex_problem(pattern: str) -> str | None:
    try:
        _regex(pattern)
    except Exception as error:  # noqa: BLE001 - re2.error, or a pattern over RE2_MAX_MEM
        detail = error.args[0].decode("utf-8", "replace") if error.args and isinstance(error.args[0], bytes) else ""
        detail = f" ({detail})" if detail else ""
        return f"is not a regular expression RE2 can take{detail}: backreferences and lookaround are not supported"
    return None


@lru_cache(maxsize=256)
def _regex(pattern: str) -> Any:
    import re2

    options = re2.Options()
    options.max_mem = RE2_MAX_MEM
    options.log_errors = False
    return re2.compile(pattern, options)


def _pointer(path: Any) -> str:
    return "".join(f"/{_escape(part)}" for part in path)


def _escape(part: object) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


# --- Evaluation -------------------------------------------------------------------------------


class _Validator(Protocol):
    """What the keyword functions use of a jsonschema validator (its protocol omits ``descend``)."""

    _resolver: Any

    def iter_errors(self, instance: Any) -> Iterator["ValidationError"]: ...

    def is_type(self, instance: Any, type: str) -> bool: ...

    def is_valid(self, instance: Any) -> bool: ...

    def evolve(self, **changes: Any) -> "_Validator": ...

    def descend(
        self, instance: Any, schema: Any, path: str | int | None = None, schema_path: str | int | None = None
    ) -> Iterator["ValidationError"]: ...


KeywordFunction = Callable[[_Validator, Any, Any, dict[str, Any]], Iterator["ValidationError"] | None]


class _BudgetSpentError(Exception):
    pass


class _Budget:
    def __init__(self, steps: int) -> None:
        self.left = steps

    def spend(self, steps: int = 1) -> None:
        self.left -= steps
        if self.left < 0:
            raise _BudgetSpentError()


_BUDGET: ContextVar[_Budget] = ContextVar("schema_evaluation_budget")


@lru_cache(maxsize=64)
def _validator(canonical: str) -> _Validator:
    """A validator for a schema that passed ``_problem``, compiled once per container."""
    from referencing import Registry

    schema = json.loads(canonical)
    schema.pop("$schema", None)  # only 2020-12 is allowed: no subschema may switch to another class
    validator: _Validator = _validator_class()(schema, registry=Registry(), format_checker=None)
    return validator


@cache
def _validator_class() -> Callable[..., _Validator]:
    """Draft 2020-12 with RE2 wherever a pattern is matched, hashed ``uniqueItems``, and every keyword
    evaluation counted against the budget."""
    from jsonschema import Draft202012Validator, validators

    keywords: dict[str, KeywordFunction] = {
        **Draft202012Validator.VALIDATORS,
        "pattern": _pattern,
        "patternProperties": _pattern_properties,
        "additionalProperties": _additional_properties,
        "unevaluatedProperties": _unevaluated_properties,
        "uniqueItems": _unique_items,
    }
    counted = {name: _counted(function) for name, function in keywords.items()}
    extended: Callable[..., _Validator] = validators.extend(Draft202012Validator, counted)  # type: ignore[no-untyped-call]
    return extended


def _counted(function: KeywordFunction) -> KeywordFunction:
    def keyword(validator: _Validator, value: Any, instance: Any, schema: dict[str, Any]) -> Any:
        _BUDGET.get().spend()
        return function(validator, value, instance, schema)

    return keyword


def _error(message: str) -> "ValidationError":
    from jsonschema.exceptions import ValidationError

    return ValidationError(message)


def _pattern(validator: _Validator, pattern: str, instance: Any, schema: dict[str, Any]) -> Iterator["ValidationError"]:
    if validator.is_type(instance, "string") and _regex(pattern).search(instance) is None:
        yield _error(f"does not match {pattern!r}")


def _pattern_properties(
    validator: _Validator, patterns: dict[str, Any], instance: Any, schema: dict[str, Any]
) -> Iterator["ValidationError"]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        regex = _regex(pattern)
        for name, value in instance.items():
            if regex.search(name):
                yield from validator.descend(value, subschema, path=name, schema_path=pattern)


def _additional_properties(
    validator: _Validator, additional: Any, instance: Any, schema: dict[str, Any]
) -> Iterator["ValidationError"]:
    if not validator.is_type(instance, "object"):
        return
    extras = _extra_properties(instance, schema)
    if validator.is_type(additional, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], additional, path=extra)
    elif not additional and extras:
        yield _error(f"has {len(extras)} properties the schema does not allow")


def _extra_properties(instance: Mapping[str, Any], schema: dict[str, Any]) -> list[str]:
    properties = schema.get("properties", {})
    patterns = [_regex(pattern) for pattern in schema.get("patternProperties", {})]
    return [name for name in instance if name not in properties and not any(regex.search(name) for regex in patterns)]


def _unevaluated_properties(
    validator: _Validator, unevaluated: Any, instance: Any, schema: dict[str, Any]
) -> Iterator["ValidationError"]:
    """jsonschema's own, with RE2 for ``patternProperties`` (``_evaluated_properties``)."""
    if not validator.is_type(instance, "object"):
        return
    evaluated = _evaluated_properties(validator, instance, schema)
    failing = [
        name
        for name in instance
        if name not in evaluated
        and next(validator.descend(instance[name], unevaluated, path=name, schema_path=name), None) is not None
    ]
    if failing:
        yield _error(f"has {len(failing)} unevaluated properties the schema does not allow")


def _evaluated_properties(validator: _Validator, instance: Mapping[str, Any], schema: Any) -> set[str]:
    """The members of ``instance`` some keyword of ``schema`` evaluated (jsonschema's
    ``find_evaluated_property_keys_by_schema``, with RE2 and the budget)."""
    _BUDGET.get().spend()
    if isinstance(schema, bool):
        return set()
    evaluated: set[str] = set()
    for keyword in _REFERENCES:
        if keyword in schema:
            resolved = validator._resolver.lookup(schema[keyword])
            referred = validator.evolve(schema=resolved.contents, _resolver=resolved.resolver)
            evaluated |= _evaluated_properties(referred, instance, resolved.contents)
    evaluated |= instance.keys() & schema.get("properties", {}).keys()
    for keyword in ("additionalProperties", "unevaluatedProperties"):
        if keyword in schema:
            evaluated |= {name for name, value in instance.items() if _valid(validator.descend(value, schema[keyword]))}
    patterns = [_regex(pattern) for pattern in schema.get("patternProperties", {})]
    evaluated |= {name for name in instance if any(regex.search(name) for regex in patterns)}
    for name, subschema in schema.get("dependentSchemas", {}).items():
        if name in instance:
            evaluated |= _evaluated_properties(validator, instance, subschema)
    for keyword in ("allOf", "oneOf", "anyOf"):
        for subschema in schema.get(keyword, []):
            if _valid(validator.descend(instance, subschema)):
                evaluated |= _evaluated_properties(validator, instance, subschema)
    if "if" in schema:
        if validator.evolve(schema=schema["if"]).is_valid(instance):
            evaluated |= _evaluated_properties(validator, instance, schema["if"])
            if "then" in schema:
                evaluated |= _evaluated_properties(validator, instance, schema["then"])
        elif "else" in schema:
            evaluated |= _evaluated_properties(validator, instance, schema["else"])
    return evaluated


def _valid(errors: Iterator["ValidationError"]) -> bool:
    return next(errors, None) is None


def _unique_items(
    validator: _Validator, unique: Any, instance: Any, schema: dict[str, Any]
) -> Iterator["ValidationError"]:
    """Linear: jsonschema compares unsortable items (objects, mixed types) pair by pair."""
    if not unique or not validator.is_type(instance, "array"):
        return
    _BUDGET.get().spend(len(instance))
    keys = [_equality_key(item) for item in instance]
    if len(set(keys)) != len(keys):
        yield _error("has non-unique elements")


def _equality_key(value: Any) -> Any:
    """Equal under JSON Schema equality (1 == 1.0, true != 1, members unordered) iff equal keys."""
    if isinstance(value, bool) or value is None:
        return ("literal", value)
    if isinstance(value, int | float):
        return ("number", value)
    if isinstance(value, str):
        return ("string", value)
    if isinstance(value, list):
        return ("array", tuple(_equality_key(item) for item in value))
    if isinstance(value, dict):
        return ("object", frozenset((name, _equality_key(item)) for name, item in value.items()))
    return ("other", repr(value))
