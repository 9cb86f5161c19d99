"""Model references, resolution and JSON Schema validation of inputs."""

import time
from collections.abc import Callable
from typing import Any

import pytest

from shared.registry.models import (
    InvalidModelInputError,
    InvalidSchemaError,
    ModelNotFoundError,
    ModelRef,
    ModelVersion,
    UnusableModelSchemaError,
)
from shared.registry.service import ModelRegistry
from tests.support.fakes import InMemoryModelStore
from tests.support.timing import finishes_within


@pytest.mark.parametrize(
    ("text", "expected"),
    [("echo", ModelRef("echo")), ("sentiment:1", ModelRef("sentiment", 1)), ("a-b_c:12", ModelRef("a-b_c", 12))],
)
def test_parse_model_refs(text: str, expected: ModelRef) -> None:
    assert ModelRef.parse(text) == expected


def test_builtins_are_listed_by_name() -> None:
    assert [m.name for m in ModelRegistry(InMemoryModelStore()).list("acme")] == [
        "all-minilm-l6-v2",
        "echo",
        "iris",
        "sentiment",
    ]


def test_unpinned_reference_resolves_to_latest_version() -> None:
    assert ModelRegistry(InMemoryModelStore()).resolve("acme", ModelRef("sentiment")).version == 1


def test_unknown_version_names_model_and_version() -> None:
    with pytest.raises(ModelNotFoundError, match="version 3 of model 'sentiment'"):
        ModelRegistry(InMemoryModelStore()).resolve("acme", ModelRef("sentiment", 3))


@pytest.mark.parametrize(
    ("payload", "pointer", "detail"),
    [
        ({}, "/input/text", "is required"),
        ({"text": 5}, "/input/text", "must be of type string"),
        ({"text": ""}, "/input/text", "must be at least 1 characters long"),
        ({"text": "x" * 10001}, "/input/text", "must be at most 10000 characters long"),
        ({"text": "ok", "extra": True}, "/input", "has properties the model's input schema does not allow"),
    ],
)
def test_sentiment_input_errors_carry_pointers_and_never_echo_the_value(
    payload: dict[str, object], pointer: str, detail: str
) -> None:
    version = ModelRegistry(InMemoryModelStore()).resolve("acme", ModelRef("sentiment"))

    with pytest.raises(InvalidModelInputError) as raised:
        ModelRegistry(InMemoryModelStore()).validate_input(version, payload)

    [error] = raised.value.errors
    assert (error.pointer, error.detail) == (pointer, detail)
    assert "xxxxx" not in error.detail


def test_echo_accepts_any_object() -> None:
    version = ModelRegistry(InMemoryModelStore()).resolve("acme", ModelRef("echo"))

    ModelRegistry(InMemoryModelStore()).validate_input(version, {"nested": {"list": [1, 2, {"a": None}]}})


def test_a_schema_is_checked_against_the_meta_schema_once_per_container(monkeypatch: pytest.MonkeyPatch) -> None:
    from jsonschema import Draft202012Validator

    from shared.registry import registration, schema_rules

    checked: list[object] = []
    original = Draft202012Validator.check_schema

    def counted(schema: object, format_checker: object) -> None:
        checked.append(schema)
        original(schema, format_checker=format_checker)  # type: ignore[arg-type]

    monkeypatch.setattr(Draft202012Validator, "check_schema", counted)
    schema_rules.schema_problem.cache_clear()
    schema = {"type": "object", "properties": {"x": {"type": "number"}, "y": {"type": 12}}}

    verdicts = []
    for same in (schema, dict(reversed(schema.items()))):  # the same schema, keys in another order
        with pytest.raises(InvalidSchemaError) as refused:
            registration._check_schema("/input_schema", same)
        verdicts.append((refused.value.errors[0].pointer, refused.value.errors[0].detail))

    assert len(checked) == 1
    assert verdicts == [("/input_schema/properties/y/type", "fails the 'anyOf' rule of JSON Schema")] * 2


# --- Tenant schemas: RE2 patterns, bounded evaluation (issue 14) ---------------------------------


def _version(input_schema: dict[str, Any]) -> ModelVersion:
    return ModelVersion("tenant-model", 1, "onnx", input_schema, {"type": "object"}, "2026-11-21T00:00:00.000Z")


def _validate(input_schema: dict[str, Any], payload: dict[str, Any]) -> None:
    ModelRegistry(InMemoryModelStore()).validate_input(_version(input_schema), payload)


# Python's backtracking re takes over a minute on ^(a+)+$ against EVIL (four times longer with every
# two more characters); RE2 takes microseconds.
EVIL = "a" * 30 + "!"
MATCHING = "a" * 40
CATASTROPHIC = "^(a+)+$"


@pytest.mark.parametrize(
    ("schema", "payload", "pointer"),
    [
        ({"properties": {"t": {"pattern": CATASTROPHIC}}}, {"t": EVIL}, "/input/t"),
        ({"propertyNames": {"pattern": CATASTROPHIC}}, {EVIL: 1}, "/input"),
        ({"patternProperties": {CATASTROPHIC: {"type": "string"}}}, {EVIL: 1, MATCHING: 1}, f"/input/{MATCHING}"),
        ({"patternProperties": {CATASTROPHIC: {}}, "additionalProperties": False}, {EVIL: 1}, "/input"),
        ({"patternProperties": {CATASTROPHIC: {}}, "unevaluatedProperties": False}, {EVIL: 1}, "/input"),
    ],
    ids=["pattern", "propertyNames", "patternProperties", "additionalProperties", "unevaluatedProperties"],
)
def test_every_pattern_is_matched_in_linear_time(schema: dict[str, Any], payload: dict[str, Any], pointer: str) -> None:
    def refused() -> InvalidModelInputError:
        with pytest.raises(InvalidModelInputError) as raised:
            _validate({"type": "object", **schema}, payload)
        return raised.value

    [error] = finishes_within(10, refused)

    assert [e.pointer for e in error.errors] == [pointer]


def test_patterns_keep_their_meaning_under_re2() -> None:
    schema = {"type": "object", "patternProperties": {"^x-": {"type": "string"}}, "additionalProperties": False}
    schema["properties"] = {"code": {"type": "string", "pattern": "^[A-Z]{3}-\\d+$"}}

    _validate(schema, {"code": "ABC-12", "x-note": "ok"})
    with pytest.raises(InvalidModelInputError) as raised:
        _validate(schema, {"code": "abc-12", "x-note": 1, "other": True})

    assert sorted(e.pointer for e in raised.value.errors) == ["/input", "/input/code", "/input/x-note"]


def test_unique_items_is_not_quadratic_and_keeps_json_equality() -> None:
    distinct: list[Any] = [{"n": n} for n in range(30_000)] + ["mixed", 1]  # unsortable: jsonschema compares pairs
    schema = {"type": "object", "properties": {"v": {"type": "array", "uniqueItems": True}}}

    finishes_within(20, lambda: _validate(schema, {"v": distinct}))
    _validate(schema, {"v": [1, True, "1", [1], {"a": 1}, {"a": True}, None, False, 0]})
    for duplicated in ([1, 1.0], [{"a": 1, "b": [2]}, {"b": [2.0], "a": 1}], [[None], [None]]):
        with pytest.raises(InvalidModelInputError):
            _validate(schema, {"v": duplicated})


def test_unique_items_is_linear_for_integers_that_share_a_hash() -> None:
    """Python hashes an int as itself modulo 2**61 - 1: thousands of multiples of it would make a set quadratic."""
    colliding = [k * (2**61 - 1) for k in range(1, 30_001)]
    schema = {"type": "object", "properties": {"v": {"type": "array", "uniqueItems": True}}}

    finishes_within(5, lambda: _validate(schema, {"v": colliding}))
    with pytest.raises(InvalidModelInputError):
        _validate(schema, {"v": [*colliding[:100], colliding[50]]})
    with pytest.raises(InvalidModelInputError):
        _validate(schema, {"v": [10**20, 1e20]})  # equal numbers, one written as a float
    _validate(schema, {"v": [2**53 + 1, float(2**53), 0.5, 0.25]})


def test_thousands_of_unknown_keywords_under_items_are_charged_for_their_walk() -> None:
    """jsonschema visits every keyword of a subschema at every descent, annotations included: 6,500
    unknown ones under ``items`` took 99 s over a 256 KiB array, and no keyword's charge paid for it."""
    annotated = {"type": "object", "properties": {"v": {"items": {f"z{n}": 0 for n in range(6_500)}}}}

    def refused() -> UnusableModelSchemaError:
        with pytest.raises(UnusableModelSchemaError) as raised:
            _validate(_registrable(annotated), {"v": [0] * 40_000})
        return raised.value

    [error] = finishes_within(10, refused)
    assert "takes too many steps" in str(error)
    _validate(annotated, {"v": [0] * 100})  # a short array is still checked


def test_a_pattern_of_many_capturing_groups_is_matched_without_tracking_them() -> None:
    """RE2 tracks every capturing group at every byte: 1,600 groups made one 8 KB search take 45 s."""
    groups = "^(?:" + "|".join(["(a)"] * 1600) + ")*$"
    schema = {"type": "object", "properties": {"s": {"type": "string", "pattern": groups}}}

    finishes_within(10, lambda: _validate(_registrable(schema), {"s": "a" * 8000}))
    with pytest.raises(InvalidModelInputError):
        _validate(schema, {"s": "a" * 8000 + "b"})


def test_a_schema_whose_work_doubles_with_each_level_of_the_input_stops_at_its_budget() -> None:
    doubling = {
        "type": "object",
        "properties": {"v": {"$ref": "#/$defs/twice"}},
        "$defs": {
            "twice": {"allOf": [{"$ref": "#/$defs/item"}, {"$ref": "#/$defs/item"}]},
            "item": {"items": {"$ref": "#/$defs/twice"}},
        },
    }
    nested: Any = 0
    for _ in range(40):
        nested = [nested]

    def refused() -> UnusableModelSchemaError:
        with pytest.raises(UnusableModelSchemaError) as raised:
            _validate(doubling, {"v": nested})
        return raised.value

    [error] = finishes_within(60, refused)

    assert "takes too many steps" in str(error)
    assert [(e.pointer, e.detail) for e in error.errors] == [
        ("/input", "cannot be checked against the model's input schema")
    ]


def test_a_schema_that_fails_to_evaluate_is_the_inputs_error_not_a_crash() -> None:
    schema = {"type": "object", "properties": {"n": {"multipleOf": 0.5}}}  # jsonschema overflows on huge integers

    with pytest.raises(UnusableModelSchemaError, match="could not be evaluated"):
        _validate(schema, {"n": 10**400})


def test_self_contained_schemas_with_anchors_and_recursion_still_validate() -> None:
    tree = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {"root": {"$ref": "#node"}, "tags": {"$dynamicRef": "#tags"}},
        "$defs": {
            "node": {
                "$anchor": "node",
                "type": "object",
                "properties": {"value": {"type": "number"}, "children": {"type": "array", "items": {"$ref": "#node"}}},
                "required": ["value"],
            },
            "tags": {"$dynamicAnchor": "tags", "type": "array", "items": {"type": "string"}},
        },
    }
    deep: dict[str, Any] = {"value": 0}
    for level in range(1, 20):
        deep = {"value": level, "children": [deep]}

    _validate(tree, {"root": deep, "tags": ["a"]})
    with pytest.raises(InvalidModelInputError) as raised:
        _validate(tree, {"root": {"value": 1, "children": [{"value": 2, "children": [{}]}]}, "tags": [1]})

    assert sorted(e.pointer for e in raised.value.errors) == [
        "/input/root/children/0/children/0/value",
        "/input/tags/0",
    ]


# --- Evaluation is charged for its real work, and ends by a deadline (issue 14 re-test) ------------


def _unusable(input_schema: dict[str, Any], payload: dict[str, Any], registry: ModelRegistry | None = None) -> str:
    """The refusal's detail; "does not hang" bound only (each case held a function for 30 s to minutes)."""

    def refused() -> str:
        with pytest.raises(UnusableModelSchemaError) as raised:
            (registry or ModelRegistry(InMemoryModelStore())).validate_input(_version(input_schema), payload)
        assert [(e.pointer, e.detail) for e in raised.value.errors] == [
            ("/input", "cannot be checked against the model's input schema")
        ]
        return str(raised.value)

    [detail] = finishes_within(60, refused)
    return str(detail)


def _registrable(schema: dict[str, Any]) -> dict[str, Any]:
    from shared.registry import registration

    registration._check_schema("/input_schema", schema)  # raises if registration would refuse it
    return schema


def many_large_patterns() -> tuple[dict[str, Any], dict[str, Any]]:
    """300 patterns of up to ~5,000 RE2 instructions (the registration cap) on one 100 KB string: RE2's
    DFA gives up on each, ~0.1-1 s a search."""
    patterns = [{"pattern": f"a.{{0,{550 - i}}}b"} for i in range(300)]
    return {"type": "object", "properties": {"s": {"type": "string", "allOf": patterns}}}, {"s": "a" * 100_000}


def many_pattern_properties(keyword: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """3,000 patternProperties and 10,000 other names: every name is searched against every pattern."""
    schema = {"type": "object", "patternProperties": {f"^q{i}z$": {} for i in range(3_000)}, keyword: False}
    return schema, {f"k{i}": 1 for i in range(10_000)}


def long_enum() -> tuple[dict[str, Any], dict[str, Any]]:
    """A 10,001-member enum whose match is last, checked for 5,000 items: pairwise equality."""
    items = {"enum": [*range(2, 10_002), 1]}
    return {"type": "object", "properties": {"x": {"type": "array", "items": items}}}, {"x": [1] * 5_000}


@pytest.mark.parametrize(
    "case",
    [
        many_large_patterns,
        lambda: many_pattern_properties("additionalProperties"),
        lambda: many_pattern_properties("unevaluatedProperties"),
        long_enum,
    ],
    ids=["many large patterns", "patternProperties x additionalProperties", "x unevaluatedProperties", "long enum"],
)
def test_work_inside_one_keyword_is_charged_so_a_registrable_schema_stops_at_its_budget(
    case: Callable[[], tuple[dict[str, Any], dict[str, Any]]],
) -> None:
    schema, payload = case()

    detail = _unusable(_registrable(schema), payload)

    assert "takes too many steps" in detail


def test_error_messages_are_charged_for_the_value_they_quote() -> None:
    # jsonschema puts repr(value) in each error: 999 failing subschemas over a 240 KB value.
    schema = {"type": "object", "allOf": [{"type": "string"}] * 999}

    assert "takes too many steps" in _unusable(_registrable(schema), {"x": [1] * 120_000})


def test_unique_items_is_charged_for_the_size_of_its_items() -> None:
    schema = {"type": "object", "properties": {"x": {"allOf": [{"uniqueItems": True}] * 900}}}

    assert "takes too many steps" in _unusable(_registrable(schema), {"x": [{"a": [1] * 60_000}, {"b": [1] * 60_000}]})


def test_unevaluated_items_is_not_quadratic() -> None:
    properties: dict[str, Any] = {
        "v": {"allOf": [{"items": True}], "unevaluatedItems": False},
        "w": {"prefixItems": [{}], "unevaluatedItems": False},
    }
    schema = {"type": "object", "properties": properties}

    # jsonschema looks each index up in a list: ~40 s here at 100,000 items
    finishes_within(20, lambda: _validate(_registrable(schema), {"v": [0] * 120_000, "w": [0]}))
    with pytest.raises(InvalidModelInputError) as raised:
        _validate(schema, {"w": [0, 1]})

    assert [e.pointer for e in raised.value.errors] == ["/input/w"]


def test_an_evaluation_past_its_deadline_is_the_inputs_error() -> None:
    schema = {"type": "object", "properties": {"x": {"type": "array", "items": {"type": "integer"}}}}
    payload = {"x": [1] * 1_000}
    hurried = ModelRegistry(InMemoryModelStore(), evaluation_seconds=1e-9)

    assert "takes too long" in _unusable(schema, payload, hurried)
    ModelRegistry(InMemoryModelStore(), evaluation_seconds=60).validate_input(_version(schema), payload)


def test_a_deadline_given_by_the_caller_ends_the_evaluation_sooner() -> None:
    schema = {"type": "object", "properties": {"x": {"type": "integer"}}}
    registry = ModelRegistry(InMemoryModelStore(), evaluation_seconds=60)

    with pytest.raises(UnusableModelSchemaError, match="takes too long"):
        registry.validate_input(_version(schema), {"x": 1}, deadline=time.monotonic() - 1)


def test_legitimate_patterns_on_long_strings_still_evaluate() -> None:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "pattern": "^[\\p{L}\\p{N}]+$"},
            "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,63}$"},
            "when": {"type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2}$"},
        },
    }

    _validate(_registrable(schema), {"name": "é" * 100_000, "id": "model-1", "when": "2026-11-21"})
    with pytest.raises(InvalidModelInputError) as raised:
        _validate(schema, {"name": "a b" * 30_000, "id": "-x" * 40_000})

    assert sorted(e.pointer for e in raised.value.errors) == ["/input/id", "/input/name"]


# --- What registration refuses: too large, and RE2's real reason -----------------------------------


def _refusal(schema: dict[str, Any]) -> tuple[str, str]:
    from shared.registry import registration

    with pytest.raises(InvalidSchemaError) as refused:
        registration._check_schema("/input_schema", schema)
    [error] = refused.value.errors
    return error.pointer, error.detail


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "description": "d" * 420_000},
        {"type": "object", "properties": {f"p{i}": {"type": "number"} for i in range(25_000)}},
    ],
    ids=["long description", "25,000 properties"],
)
def test_a_schema_over_the_size_limit_is_refused_naming_the_limit(schema: dict[str, Any]) -> None:
    pointer, detail = _refusal(schema)

    assert pointer == "/input_schema"
    assert "at most 65,536" in detail


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("a.{0,999}b", "is too large for RE2: it compiles to 8,997 instructions, at most 5,000"),
        ("^\\p{L}{1,64}$", "is too large for RE2: it needs more than"),
        ("[", "is not a regular expression RE2 can take (missing ]: [)"),
        ("(a)\\1", "backreferences and lookaround are not supported"),
        ("(?<=x)y", "backreferences and lookaround are not supported"),
    ],
)
def test_a_refused_pattern_says_why(pattern: str, reason: str) -> None:
    pointer, detail = _refusal({"type": "object", "properties": {"t": {"pattern": pattern}}})

    assert pointer == "/input_schema/properties/t/pattern"
    assert reason in detail
    if pattern == "[":
        assert "backreferences" not in detail


def test_a_refusal_does_not_echo_a_huge_pattern() -> None:
    huge = "[" + "a" * 50_000

    pointer, detail = _refusal({"type": "object", "patternProperties": {huge: {}}})

    assert pointer.startswith("/input_schema/patternProperties/[aaa")
    assert len(pointer) < 200
    assert len(detail) < 200


@pytest.mark.parametrize(
    "pattern",
    ["^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\\.[a-zA-Z]{2,}$", "^\\p{L}+$", "^[^\\s]{1,255}$", "^.{1,500}$"],
)
def test_ordinary_patterns_are_registrable(pattern: str) -> None:
    _registrable({"type": "object", "properties": {"t": {"pattern": pattern}}})
