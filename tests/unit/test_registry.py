"""Model references, resolution and JSON Schema validation of inputs."""

import pytest

from shared.registry.models import ModelNotFoundError, ModelRef
from shared.registry.service import InvalidModelInputError, ModelRegistry
from tests.support.fakes import InMemoryModelStore


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

    from shared.registry import registration, schemas

    checked: list[object] = []
    original = Draft202012Validator.check_schema

    def counted(schema: object, format_checker: object) -> None:
        checked.append(schema)
        original(schema, format_checker=format_checker)  # type: ignore[arg-type]

    monkeypatch.setattr(Draft202012Validator, "check_schema", counted)
    schemas._problem.cache_clear()
    schema = {"type": "object", "properties": {"x": {"type": "number"}, "y": {"type": 12}}}

    verdicts = []
    for same in (schema, dict(reversed(schema.items()))):  # the same schema, keys in another order
        with pytest.raises(registration.InvalidSchemaError) as refused:
            registration._check_schema("/input_schema", same)
        verdicts.append((refused.value.errors[0].pointer, refused.value.errors[0].detail))

    assert len(checked) == 1
    assert verdicts == [("/input_schema/properties/y/type", "fails the 'anyOf' rule of JSON Schema")] * 2
