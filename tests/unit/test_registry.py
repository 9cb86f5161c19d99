"""Model references, resolution and JSON Schema validation of inputs."""

from typing import Any

import pytest

from shared.registry.models import ModelNotFoundError, ModelRef, ModelVersion
from shared.registry.service import InvalidModelInputError, ModelRegistry, UnusableModelSchemaError
from tests.support.fakes import InMemoryModelStore
from tests.support.timing import finishes_within


@pytest.mark.parametrize(
    ("text", "expected"),
    [("echo", ModelRef("echo")), ("sentiment:1", ModelRef("sentiment", 1)), ("a-b_c:12", ModelRef("a-b_c", 12))],
)
def test_parse_model_refs(text: str, expected: ModelRef) -> None:
    assert ModelRef.parse(text) == expected


def test_builtins_are_listed_by_name() -> None:
    assert [m.name for m in ModelRegistry(InMemoryModelStore()).list("acme")] == ["echo", "iris", "sentiment"]


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
        with pytest.raises(registration.InvalidSchemaError) as refused:
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
