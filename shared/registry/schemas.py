"""Evaluating a value against a tenant's JSON Schema, bounded: the one place validators are built.

Only schemas that pass ``schema_rules`` are compiled, with a ``referencing.Registry`` that retrieves
nothing, so no schema can make the service open a URL or a file, whatever got stored. Every pattern
is matched with RE2, in time linear in the text: ``pattern``, ``patternProperties``, and the pattern
matching inside ``additionalProperties`` and ``unevaluatedProperties``, which jsonschema would
otherwise do with Python's backtracking ``re``.

Evaluating one value may take ``BASE_STEPS`` plus ``STEPS_PER_BYTE`` per byte of the value (as JSON),
a step being about one keyword evaluation, and every piece of work is charged for what it really
costs, before it runs: a keyword evaluation one step plus the size of its own value (``enum``'s
members, ``properties``' names ...), each RE2 search its text's length times the pattern's program
size, each error the length of its message (jsonschema puts the value's ``repr`` in it), and the
loops this module runs over a value's members (``uniqueItems``, ``additionalProperties``,
``unevaluated*``) one step a member. A wall-clock deadline, checked wherever steps are spent, ends
whatever the accounting misses. Any failure to evaluate is ``UnusableSchemaError``, the input's own
error.
"""

import json
import time
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, Protocol

from shared.registry.schema_rules import (
    REFERENCES,
    UnusableSchemaError,
    canonical,
    compiled_pattern,
    program_size,
    schema_problem,
)

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError


# Steps one value may take: a base, plus some per byte of the value (as JSON). One step is about one
# keyword evaluation, 2-8 us here (jsonschema's descent into a subschema dominates; a failing keyword
# with its error is the dearer end): a 256 KiB array of small numbers checked for type and range
# (about one step a byte) takes ~1 s (~2 s through a '$ref'), and the most a 256 KiB value may spend,
# ~625,000 steps, up to ~2.4 s (failing 'not's, fan-outs of '$ref').
# The base keeps a small input from paying for a schema whose work grows exponentially with its nesting.
BASE_STEPS = 100_000
STEPS_PER_BYTE = 2
# One RE2 search costs (bytes of text) x (instructions of the pattern's program) / RE2_WORK_PER_STEP
# steps. Measured (timeit, best of 3): RE2 spends at most ~3.3 ns per byte and instruction, where its
# DFA gives up and it simulates the NFA ('(.*a){20}b' over 'ab' * 5000; 'a.{0,999}b' over 'a' * 10000:
# 2.2 ns), and far less when its DFA runs; so 1,000 byte-instructions (~3 us) is about one step.
RE2_WORK_PER_STEP = 1_000
# Compiling a pattern takes 10-20 us (RE2's program of up to 5,000 instructions); the container keeps
# only 256 compiled, so one evaluation keeps its own, compiled and charged at first use.
COMPILE_STEPS = 3
COMPILED_INSTRUCTIONS_PER_STEP = 1_000
ERROR_MESSAGE_CHARS_PER_STEP = 100  # building a message: repr of the value, ~100 characters a microsecond
REFERENCE_CHARS_PER_STEP = 10  # resolving a '#/a/b/...' pointer walks it a segment at a time


def validation_errors(
    schema: Mapping[str, Any], instance: Any, deadline: float | None = None
) -> list["ValidationError"]:
    """Every way ``instance`` breaks ``schema``; ``UnusableSchemaError`` when that cannot be told, within
    the step budget and, when given, by ``deadline`` (a ``time.monotonic()`` instant)."""
    text = canonical(schema)
    problem = schema_problem(text)
    if problem is not None:
        raise UnusableSchemaError(*problem)
    validator = _validator(text)
    size = len(json.dumps(instance, separators=(",", ":"), default=str))
    token = _BUDGET.set(_Budget(BASE_STEPS + STEPS_PER_BYTE * size, deadline))
    try:
        return list(validator.iter_errors(instance))
    except _BudgetSpentError:
        raise UnusableSchemaError("", "checking this value against the schema takes too many steps") from None
    except _DeadlineError:
        raise UnusableSchemaError("", "checking this value against the schema takes too long") from None
    except RecursionError:
        raise UnusableSchemaError("", "the value nests too deeply to be checked against the schema") from None
    except Exception:  # noqa: BLE001 - whatever the schema does, it is this value's error, never a 500
        raise UnusableSchemaError("", "the schema could not be evaluated for this value") from None
    finally:
        _BUDGET.reset(token)


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


class _DeadlineError(Exception):
    pass


class _Budget:
    def __init__(self, steps: int, deadline: float | None) -> None:
        self.left = steps
        self._deadline = deadline
        self.patterns: dict[str, tuple[Any, int]] = {}  # compiled RE2 patterns (and program sizes) used so far

    def spend(self, steps: int = 1) -> None:
        """Charge ``steps`` before the work they pay for runs."""
        self.left -= steps
        if self.left < 0:
            raise _BudgetSpentError()
        if self._deadline is not None and time.monotonic() > self._deadline:
            raise _DeadlineError()


_BUDGET: ContextVar[_Budget] = ContextVar("schema_evaluation_budget")
KEYWORDS_WALKED_PER_STEP = 32


@lru_cache(maxsize=64)
def _validator(text: str) -> _Validator:
    """A validator for a schema that passed ``schema_problem``, compiled once per container."""
    from referencing import Registry

    schema = json.loads(text)
    schema.pop("$schema", None)  # only 2020-12 is allowed: no subschema may switch to another class
    validator: _Validator = _validator_class()(schema, registry=Registry(), format_checker=None)
    return validator


@cache
def _validator_class() -> Callable[..., _Validator]:
    """Draft 2020-12 with RE2 wherever a pattern is matched, hashed ``uniqueItems``, a set for
    ``unevaluatedItems`` (jsonschema's list makes it quadratic), and every keyword evaluation and
    error charged to the budget."""
    from jsonschema import Draft202012Validator, validators

    keywords: dict[str, KeywordFunction] = {
        **Draft202012Validator.VALIDATORS,
        "pattern": _pattern,
        "patternProperties": _pattern_properties,
        "additionalProperties": _additional_properties,
        "unevaluatedProperties": _unevaluated_properties,
        "unevaluatedItems": _unevaluated_items,
        "uniqueItems": _unique_items,
    }
    counted = {name: _counted(name, function) for name, function in keywords.items()}
    create: Any = validators.create  # its stubs type keyword functions and id_of more narrowly than it takes
    created: Callable[..., _Validator] = create(
        meta_schema=Draft202012Validator.META_SCHEMA,
        validators=counted,
        type_checker=Draft202012Validator.TYPE_CHECKER,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
        id_of=Draft202012Validator.ID_OF,
        applicable_validators=_charged_keywords,
    )
    return created


def _charged_keywords(schema: Mapping[str, Any]) -> Any:
    """A subschema's keywords, their walk charged: jsonschema visits every one of them (unknown ones, which
    the meta-schema allows as annotations, included) at every descent and every ``evolve``, so thousands
    of unknown keywords under ``items`` were a long walk per array item that no keyword paid for (6,500
    over a 256 KiB array: minutes). A visit costs ~0.1 µs, a step ~5 µs: ``KEYWORDS_WALKED_PER_STEP``
    visits are one step, so an ordinary subschema walks for free, but every walk checks the deadline.
    Outside an evaluation (building the cached validator) nothing is charged."""
    budget = _BUDGET.get(None)
    if budget is not None:
        budget.spend(len(schema) // KEYWORDS_WALKED_PER_STEP)
    return schema.items()


# Keywords whose value is data the evaluation walks whole (compared, looked up member by member): they
# cost the number of JSON values in it. Any other keyword costs one step per member of its value (its
# subschemas are charged as they run).
_DATA_KEYWORDS = frozenset({"enum", "const", "required", "dependentRequired", "type"})
_REFERENCE_KEYWORDS = frozenset(REFERENCES)


def _counted(name: str, function: KeywordFunction) -> KeywordFunction:
    def keyword(validator: _Validator, value: Any, instance: Any, schema: dict[str, Any]) -> Any:
        budget = _BUDGET.get()
        budget.spend(1 + _value_cost(name, value))
        errors = function(validator, value, instance, schema)
        return None if errors is None else _charged(errors, budget)

    return keyword


def _value_cost(keyword: str, value: Any) -> int:
    if keyword in _DATA_KEYWORDS:
        return _json_values(value) - 1
    if keyword in _REFERENCE_KEYWORDS and isinstance(value, str):
        return len(value) // REFERENCE_CHARS_PER_STEP
    return len(value) if isinstance(value, list | dict) else 0


def _charged(errors: Iterator["ValidationError"], budget: _Budget) -> Iterator["ValidationError"]:
    """Each error costs the length of its message, built already (``repr`` of the value, of an ``enum``)."""
    for error in errors:
        budget.spend(1 + len(error.message) // ERROR_MESSAGE_CHARS_PER_STEP)
        yield error


_SIZES: dict[int, tuple[Any, int]] = {}  # id -> (the schema value, kept so its id is not reused; its size)
_SIZES_KEPT = 4_096


def _json_values(value: Any) -> int:
    """How many JSON values ``value`` holds, itself included; computed once per schema value."""
    if not isinstance(value, list | dict):
        return 1
    known = _SIZES.get(id(value))
    if known is not None and known[0] is value:
        return known[1]
    count, pending = 0, [value]
    while pending:
        item = pending.pop()
        count += 1
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    if len(_SIZES) >= _SIZES_KEPT:
        _SIZES.clear()
    _SIZES[id(value)] = (value, count)
    return count


def _search(pattern: str, text: str) -> bool:
    """RE2's search, charged for its worst case before it runs: text bytes x program instructions."""
    budget = _BUDGET.get()
    known = budget.patterns.get(pattern)
    if known is None:  # compiled (or taken from the container's cache) once per evaluation
        regex = compiled_pattern(pattern)
        known = budget.patterns[pattern] = (regex, program_size(regex))
        budget.spend(COMPILE_STEPS + known[1] // COMPILED_INSTRUCTIONS_PER_STEP)
    regex, instructions = known
    size = len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
    budget.spend(1 + size * instructions // RE2_WORK_PER_STEP)
    return regex.search(text) is not None


def _error(message: str) -> "ValidationError":
    from jsonschema.exceptions import ValidationError

    return ValidationError(message)


def _pattern(validator: _Validator, pattern: str, instance: Any, schema: dict[str, Any]) -> Iterator["ValidationError"]:
    if validator.is_type(instance, "string") and not _search(pattern, instance):
        yield _error("does not match the pattern")


def _pattern_properties(
    validator: _Validator, patterns: dict[str, Any], instance: Any, schema: dict[str, Any]
) -> Iterator["ValidationError"]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for name, value in instance.items():
            if _search(pattern, name):
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
    _BUDGET.get().spend(len(instance))
    properties = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    return [name for name in instance if name not in properties and not any(_search(p, name) for p in patterns)]


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
    _BUDGET.get().spend(1 + len(instance))
    if isinstance(schema, bool):
        return set()
    evaluated: set[str] = set()
    for keyword in REFERENCES:
        if keyword in schema:
            resolved = validator._resolver.lookup(schema[keyword])
            referred = validator.evolve(schema=resolved.contents, _resolver=resolved.resolver)
            evaluated |= _evaluated_properties(referred, instance, resolved.contents)
    evaluated |= instance.keys() & schema.get("properties", {}).keys()
    for keyword in ("additionalProperties", "unevaluatedProperties"):
        if keyword in schema:
            evaluated |= {name for name, value in instance.items() if _valid(validator.descend(value, schema[keyword]))}
    patterns = list(schema.get("patternProperties", {}))
    evaluated |= {name for name in instance if any(_search(pattern, name) for pattern in patterns)}
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


def _unevaluated_items(
    validator: _Validator, unevaluated: Any, instance: Any, schema: dict[str, Any]
) -> Iterator["ValidationError"]:
    """jsonschema's own, with a set of indexes: its list made each lookup linear, the keyword quadratic."""
    if not validator.is_type(instance, "array"):
        return
    evaluated = _evaluated_items(validator, instance, schema)
    failing = [
        index
        for index, item in enumerate(instance)
        if index not in evaluated and next(validator.descend(item, unevaluated, path=index), None) is not None
    ]
    if failing:
        yield _error(f"has {len(failing)} unevaluated items the schema does not allow")


def _evaluated_items(validator: _Validator, instance: list[Any], schema: Any) -> set[int]:
    """The indexes of ``instance`` some keyword of ``schema`` evaluated (jsonschema's
    ``find_evaluated_item_indexes_by_schema``, as a set, charged to the budget)."""
    _BUDGET.get().spend(1 + len(instance))
    if isinstance(schema, bool):
        return set()
    if "items" in schema:
        return set(range(len(instance)))
    evaluated: set[int] = set()
    for keyword in REFERENCES:
        if keyword in schema:
            resolved = validator._resolver.lookup(schema[keyword])
            referred = validator.evolve(schema=resolved.contents, _resolver=resolved.resolver)
            evaluated |= _evaluated_items(referred, instance, resolved.contents)
    evaluated |= set(range(min(len(schema.get("prefixItems", [])), len(instance))))
    if "if" in schema:
        if validator.evolve(schema=schema["if"]).is_valid(instance):
            evaluated |= _evaluated_items(validator, instance, schema["if"])
            if "then" in schema:
                evaluated |= _evaluated_items(validator, instance, schema["then"])
        elif "else" in schema:
            evaluated |= _evaluated_items(validator, instance, schema["else"])
    for keyword in ("contains", "unevaluatedItems"):
        if keyword in schema:
            subschema = schema[keyword]
            evaluated |= {index for index, item in enumerate(instance) if _valid(validator.descend(item, subschema))}
    for keyword in ("allOf", "oneOf", "anyOf"):
        for subschema in schema.get(keyword, []):
            if _valid(validator.descend(instance, subschema)):
                evaluated |= _evaluated_items(validator, instance, subschema)
    return evaluated


def _valid(errors: Iterator["ValidationError"]) -> bool:
    return next(errors, None) is None


def _unique_items(
    validator: _Validator, unique: Any, instance: Any, schema: dict[str, Any]
) -> Iterator["ValidationError"]:
    """Linear: jsonschema compares unsortable items (objects, mixed types) pair by pair."""
    if not unique or not validator.is_type(instance, "array"):
        return
    budget = _BUDGET.get()
    keys = []
    for item in instance:
        counter = [0]
        keys.append(_equality_key(item, counter))
        budget.spend(counter[0])  # after the item: its own size is bounded by the value's
    if len(set(keys)) != len(keys):
        yield _error("has non-unique elements")


def _equality_key(value: Any, counter: list[int]) -> Any:
    """Equal under JSON Schema equality (1 == 1.0, true != 1, members unordered) iff equal keys;
    ``counter[0]`` counts the values visited. Numbers are keyed by their decimal text, not by the number:
    Python hashes an integer as itself modulo 2**61 - 1, so a tenant could send thousands of integers
    with one hash and make the set quadratic; strings hash with a per-process random key."""
    counter[0] += 1
    if isinstance(value, bool) or value is None:
        return ("literal", value)
    if isinstance(value, float) and value.is_integer():
        return ("number", str(int(value)))  # 1.0 is 1, as JSON Schema says
    if isinstance(value, int | float):
        return ("number", str(value) if isinstance(value, int) else repr(value))
    if isinstance(value, str):
        return ("string", value)
    if isinstance(value, list):
        return ("array", tuple(_equality_key(item, counter) for item in value))
    if isinstance(value, dict):
        return ("object", frozenset((name, _equality_key(item, counter)) for name, item in value.items()))
    return ("other", repr(value))
