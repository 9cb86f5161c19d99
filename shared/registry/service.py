"""The registry's read side: list and resolve models for a tenant, and validate inputs against a version."""

import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from shared.kernel.errors import FieldError
from shared.kernel.observability import logger
from shared.registry.builtins import BUILTIN_MODELS
from shared.registry.models import (
    InvalidModelInputError,
    Model,
    ModelNotFoundError,
    ModelRef,
    ModelVersion,
    UnknownModelError,
    UnusableModelSchemaError,
)
from shared.registry.ports import ModelStore
from shared.registry.schema_rules import UnusableSchemaError
from shared.registry.schemas import validation_errors

if TYPE_CHECKING:  # jsonschema is imported on first validation: most functions never validate an input
    from jsonschema.exceptions import ValidationError

_PINNED_CACHE_SIZE = 256


class ModelRegistry:
    """Built-in models (every tenant sees them) plus the tenant's own registered models.

    Versions never change once written, so a resolved pinned version is cached for the container's life.
    Checking one input against its schema stops after ``evaluation_seconds`` (None: only the step budget
    of ``shared.registry.schemas`` bounds it).
    """

    def __init__(
        self, store: ModelStore, builtins: Iterable[Model] = BUILTIN_MODELS, evaluation_seconds: float | None = None
    ) -> None:
        self._store = store
        self._builtins = {model.name: model for model in builtins}
        self._pinned: dict[tuple[str, str, int], ModelVersion] = {}
        self._evaluation_seconds = evaluation_seconds

    def is_builtin(self, name: str) -> bool:
        return name in self._builtins

    def list(self, tenant: str) -> list[Model]:
        registered = [m for m in self._store.list_models(tenant) if m.name not in self._builtins]
        return sorted([*self._builtins.values(), *registered], key=lambda m: m.name)

    def get(self, tenant: str, name: str) -> Model:
        model = self._builtins.get(name) or self._store.get_model(tenant, name)
        if model is None:
            raise ModelNotFoundError(name)
        return model

    def lookup(self, tenant: str, text: str) -> tuple[Model, ModelVersion | None]:
        """The model a URL names by ``name`` or ``name:version``, and the pinned version if there is one;
        ``ModelNotFoundError`` when either does not exist or the reference is malformed."""
        ref = ModelRef.of_path(text)
        model = self.get(tenant, ref.name)
        return model, None if ref.version is None else _pick(model, ref)

    def resolve_requested(self, tenant: str, text: str) -> ModelVersion:
        """The version a create request's ``model`` names (``name`` or ``name:version``); a model or
        version that does not exist is the caller's mistake: ``UnknownModelError`` (422 at ``/model``)."""
        try:
            return self.resolve(tenant, ModelRef.parse(text))
        except ModelNotFoundError as missing:
            raise UnknownModelError(missing) from missing

    def resolve(self, tenant: str, ref: ModelRef) -> ModelVersion:
        builtin = self._builtins.get(ref.name)
        if builtin is not None:
            return _pick(builtin, ref)
        if ref.version is not None and (tenant, ref.name, ref.version) in self._pinned:
            return self._pinned[(tenant, ref.name, ref.version)]
        version = self._store.get_version(tenant, ref.name, ref.version)
        if version is None:
            raise ModelNotFoundError(ref.name, ref.version)
        if len(self._pinned) >= _PINNED_CACHE_SIZE:
            self._pinned.pop(next(iter(self._pinned)))
        self._pinned[(tenant, version.name, version.version)] = version
        return version

    def validate_input(
        self,
        version: ModelVersion,
        payload: Mapping[str, Any],
        pointer_prefix: str = "/input",
        deadline: float | None = None,
    ) -> None:
        """``deadline`` (a ``time.monotonic()`` instant) can end the check sooner than ``evaluation_seconds``."""
        if self._evaluation_seconds is not None:
            own = time.monotonic() + self._evaluation_seconds
            deadline = own if deadline is None else min(deadline, own)
        try:
            found = validation_errors(version.input_schema, payload, deadline)
        except UnusableSchemaError as unusable:
            logger.warning(
                "input schema not evaluated",
                extra={"model": version.name, "version": version.version, "schema_pointer": unusable.pointer},
            )
            raise UnusableModelSchemaError(version, unusable, pointer_prefix) from None
        errors = sorted(found, key=lambda e: list(e.absolute_path))
        if errors:
            raise InvalidModelInputError(version.name, [_field_error(e, pointer_prefix) for e in errors[:20]])


def _pick(model: Model, ref: ModelRef) -> ModelVersion:
    if ref.version is None:
        return model.latest
    for version in model.versions:
        if version.version == ref.version:
            return version
    raise ModelNotFoundError(ref.name, ref.version)


def _field_error(error: "ValidationError", prefix: str) -> FieldError:
    """Describe the failure without echoing the caller's value back."""
    path = "".join(f"/{_escape(part)}" for part in error.absolute_path)
    constraint = error.validator_value
    match error.validator:
        case "required":
            missing = _missing_property(error)
            return FieldError(f"{prefix}{path}/{_escape(missing)}", "is required")
        case "type":
            return FieldError(prefix + path, f"must be of type {constraint}")
        case "minLength":
            return FieldError(prefix + path, f"must be at least {constraint} characters long")
        case "maxLength":
            return FieldError(prefix + path, f"must be at most {constraint} characters long")
        case "minItems":
            return FieldError(prefix + path, f"must have at least {constraint} items")
        case "maxItems":
            return FieldError(prefix + path, f"must have at most {constraint} items")
        case "additionalProperties":
            return FieldError(prefix + path, "has properties the model's input schema does not allow")
        case "enum":
            return FieldError(prefix + path, "must be one of the values the model's input schema allows")
        case _:
            return FieldError(prefix + path, f"fails the '{error.validator}' rule of the model's input schema")


def _missing_property(error: "ValidationError") -> str:
    required = error.validator_value
    instance = error.instance
    if isinstance(required, list) and isinstance(instance, Mapping):
        for name in required:
            if name not in instance:
                return str(name)
    return ""


def _escape(part: str | int) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")
