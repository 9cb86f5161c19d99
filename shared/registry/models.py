"""Model registry domain types and errors."""

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from shared.errors import FieldError, InvalidRequestError, NotFoundError

Runtime = Literal["builtin", "onnx"]
JsonSchema = dict[str, Any]

_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_REF_PATTERN = re.compile(r"^(?P<name>[a-z0-9][a-z0-9_-]{0,63})(?::(?P<version>[1-9][0-9]{0,8}))?$")


@dataclass(frozen=True)
class Artifact:
    sha256: str
    size: int


@dataclass(frozen=True)
class ModelVersion:
    name: str
    version: int
    runtime: Runtime
    input_schema: JsonSchema
    output_schema: JsonSchema
    created_at: str
    artifact: Artifact | None = None


@dataclass(frozen=True)
class Model:
    name: str
    description: str
    versions: tuple[ModelVersion, ...] = field(default_factory=tuple)

    @property
    def latest(self) -> ModelVersion:
        return max(self.versions, key=lambda v: v.version)


@dataclass(frozen=True)
class ModelRef:
    """``name`` (latest version) or ``name:version`` (pinned)."""

    name: str
    version: int | None = None

    @classmethod
    def parse(cls, text: str) -> "ModelRef":
        match = _REF_PATTERN.fullmatch(text)
        if match is None:
            raise InvalidModelRefError(text)
        version = match.group("version")
        return cls(name=match.group("name"), version=int(version) if version else None)


class ModelNotFoundError(NotFoundError):
    def __init__(self, name: str, version: int | None = None) -> None:
        self.name = name
        self.version = version
        # Name the model only when it is a well-formed name (never echo arbitrary caller input).
        shown = f"model '{name}'" if _NAME_PATTERN.fullmatch(name) else "such model"
        target = shown if version is None else f"version {version} of {shown}"
        super().__init__(f"There is no {target}.")


class InvalidModelRefError(InvalidRequestError):
    def __init__(self, text: str) -> None:
        message = "A model reference is 'name' or 'name:version' (lower-case name, positive version)."
        super().__init__(message)
        self.errors = [FieldError("/model", message)]


class UnknownModelError(InvalidRequestError):
    """A request names a model (or version) that does not exist: the caller's input is wrong (422)."""

    def __init__(self, missing: ModelNotFoundError) -> None:
        super().__init__(str(missing))
        self.errors = [FieldError("/model", str(missing))]
