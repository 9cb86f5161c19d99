"""Evaluating a value against a tenant's JSON Schema, bounded: the one place validators are built.

Only schemas that pass ``schema_rules`` are compiled, with a ``referencing.Registry`` that retrieves
nothing, so no schema can make the service open a URL or a file, whatever got stored. Every pattern
is matched with RE2, in time linear in the text: ``pattern``, ``patternProperties``, and the pattern
matching inside ``additionalProperties`` and ``unevaluatedProperties``, which jsonschema would
otherwise do with Python's backtracking ``re``. Evaluating one value takes at most
``BASE_KEYWORD_EVALUATIONS`` keyword evaluations plus ``KEYWORD_EVALUATIONS_PER_BYTE`` per byte of the
value, and ``uniqueItems`` compares items by hashing, not pairwise. Any failure to evaluate is
``UnusableSchemaError``, the input's own error.
"""

import json
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, Protocol

from shared.registry.schema_rules import REFERENCES, UnusableSchemaError, canonical, compiled_pattern, schema_problem

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError


# Keyword evaluations one value may take: a base, plus some per byte of the value (as JSON). A
# 256 KiB array of small numbers checked for type and range needs about one per byte; the base keeps a
# small input from paying for a schema whose work grows exponentially with its nesting.
BASE_KEYWORD_EVALUATIONS = 100_000
KEYWORD_EVALUATIONS_PER_BYTE = 4


def validation_errors(schema: Mapping[str, Any], instance: Any) -> list["ValidationError"]:
    """Every way ``instance`` breaks ``schema``; ``UnusableSchemaError`` when that cannot be told."""
    text = canonical(schema)
    problem = schema_problem(text)
    if problem is not None:
        raise UnusableSchemaError(*problem)
    validator = _validator(text)
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
def _validator(text: str) -> _Validator:
    """A validator for a schema that passed ``schema_problem``, compiled once per container."""
    from referencing import Registry

    schema = json.loads(text)
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
    if validator.is_type(instance, "string") and compiled_pattern(pattern).search(instance) is None:
        yield _error(f"does not match {pattern!r}")


def _pattern_properties(
    validator: _Validator, patterns: dict[str, Any], instance: Any, schema: dict[str, Any]
) -> Iterator["ValidationError"]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        regex = compiled_pattern(pattern)
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
    patterns = [compiled_pattern(pattern) for pattern in schema.get("patternProperties", {})]
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
    for keyword in REFERENCES:
        if keyword in schema:
            resolved = validator._resolver.lookup(schema[keyword])
            referred = validator.evolve(schema=resolved.contents, _resolver=resolved.resolver)
            evaluated |= _evaluated_properties(referred, instance, resolved.contents)
    evaluated |= instance.keys() & schema.get("properties", {}).keys()
    for keyword in ("additionalProperties", "unevaluatedProperties"):
        if keyword in schema:
            evaluated |= {name for name, value in instance.items() if _valid(validator.descend(value, schema[keyword]))}
    patterns = [compiled_pattern(pattern) for pattern in schema.get("patternProperties", {})]
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
