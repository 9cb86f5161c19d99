"""Model registry domain types and errors."""

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from shared.kernel.errors import ConflictError, FieldError, InvalidRequestError, NotFoundError
from shared.registry.schema_rules import UnusableSchemaError
from shared.registry.tensor_specs import TensorSpec as TensorSpec
from shared.registry.text import TextSpec

Runtime = Literal["builtin", "onnx", "text"]
RUNTIMES: tuple[Runtime, ...] = ("builtin", "onnx", "text")
JsonSchema = dict[str, Any]

_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_REF_PATTERN = re.compile(r"^(?P<name>[a-z0-9][a-z0-9_-]{0,63})(?::(?P<version>[1-9][0-9]{0,8}))?$")


# Open Inference Protocol tensor datatypes (KServe V2).
DATATYPES = frozenset(
    {"BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64", "BYTES"}
)


@dataclass(frozen=True)
class Artifact:
    """A model file: its sha256 and size, and where it lives (an S3 key, or ``bundled:<file>``)."""

    sha256: str
    size: int
    location: str


@dataclass(frozen=True)
class ModelVersion:
    name: str
    version: int
    runtime: Runtime
    input_schema: JsonSchema
    output_schema: JsonSchema
    created_at: str
    artifact: Artifact | None = None
    description: str = ""
    inputs: tuple[TensorSpec, ...] = ()
    outputs: tuple[TensorSpec, ...] = ()
    text: TextSpec | None = None  # a text model's task and what registration found


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

    @classmethod
    def of_path(cls, text: str) -> "ModelRef":
        """A reference from a URL that looks a model up: a malformed one (of any length) names no model,
        so it is not found (404), like a well-formed unknown one."""
        try:
            return cls.parse(text)
        except InvalidModelRefError:
            raise ModelNotFoundError(text) from None

    @classmethod
    def of_parts(cls, name: str, version: str | None) -> "ModelRef":
        """A reference from separate name and version texts (the OIP paths); anything malformed is not found."""
        if _NAME_PATTERN.fullmatch(name) is None:
            raise ModelNotFoundError(name)
        if version in (None, ""):
            return cls(name=name)
        if version is None or re.fullmatch(r"[1-9][0-9]{0,8}", version) is None:
            raise MalformedVersionError(name)
        return cls(name=name, version=int(version))

    @classmethod
    def parse_name(cls, text: str) -> "ModelRef":
        """A bare model name (no version), as used to register one."""
        if _NAME_PATTERN.fullmatch(text) is None:
            raise InvalidModelNameError()
        return cls(name=text)


class ModelNotFoundError(NotFoundError):
    def __init__(self, name: str, version: int | None = None, *, target: str | None = None) -> None:
        self.name = name
        self.version = version
        if target is None:
            target = _shown_model(name) if version is None else f"version {version} of {_shown_model(name)}"
        super().__init__(f"There is no {target}.")


def _shown_model(name: str) -> str:
    """Name the model only when it is a well-formed name (never echo arbitrary caller input)."""
    return f"model '{name}'" if _NAME_PATTERN.fullmatch(name) else "such model"


class MalformedVersionError(ModelNotFoundError):
    """A version that is no version number (``0``, ``one``): the model may exist, that version does not."""

    def __init__(self, name: str) -> None:
        super().__init__(name, target=f"such version of {_shown_model(name)} (versions are numbered from 1)")


class InvalidModelRefError(InvalidRequestError):
    def __init__(self, text: str) -> None:
        message = "A model reference is 'name' or 'name:version' (lower-case name, positive version)."
        super().__init__(message)
        self.errors = [FieldError("/model", message)]


class InvalidModelNameError(InvalidRequestError):
    def __init__(self) -> None:
        message = "A model name is 1-64 of lower-case letters, digits, '-' and '_', starting with a letter or digit."
        super().__init__(message)
        self.errors = [FieldError("#/path/name", message)]


class UnknownModelError(InvalidRequestError):
    """A request names a model (or version) that does not exist: the caller's input is wrong (422)."""

    def __init__(self, missing: ModelNotFoundError) -> None:
        super().__init__(str(missing))
        self.errors = [FieldError("/model", str(missing))]


class BuiltinModelError(ConflictError):
    def __init__(self, name: str) -> None:
        super().__init__(f"Model '{name}' is built in; it cannot get new versions. Register under another name.")


class VersionTooLargeError(InvalidRequestError):
    """The version's item is over DynamoDB's 400 KB (registration's own limits should prevent it)."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"The new version of model '{name}' is too large to store: its schemas, description and the "
            "graph's inputs and outputs must fit in 400 KB together."
        )


class VersionRaceError(ConflictError):
    def __init__(self, name: str) -> None:
        super().__init__(f"Another version of model '{name}' was registered at the same time; retry the request.")


@dataclass(frozen=True)
class NewVersion:
    """What registering a version asks for; the registry assigns the number and the time."""

    name: str
    runtime: Runtime
    input_schema: JsonSchema
    output_schema: JsonSchema
    description: str
    artifact: Artifact
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    text: TextSpec | None = None

    def numbered(self, version: int, created_at: str) -> ModelVersion:
        return ModelVersion(
            name=self.name,
            version=version,
            runtime=self.runtime,
            input_schema=self.input_schema,
            output_schema=self.output_schema,
            created_at=created_at,
            artifact=self.artifact,
            description=self.description,
            inputs=self.inputs,
            outputs=self.outputs,
            text=self.text,
        )


class InvalidSchemaError(InvalidRequestError):
    def __init__(self, pointer: str, message: str) -> None:
        super().__init__("A schema is not a usable JSON Schema (draft 2020-12, self-contained, RE2 patterns).")
        self.errors = [FieldError(pointer, message)]


class ArtifactRejectedError(InvalidRequestError):
    def __init__(self, reason: str, what: str = "ONNX model") -> None:
        message = f"The uploaded file is not a usable {what}: {reason}"
        super().__init__(message)
        self.errors = [FieldError("/upload_id", message)]


class InvalidModelInputError(InvalidRequestError):
    def __init__(self, model: str, errors: list[FieldError]) -> None:
        super().__init__(f"The input does not match the input schema of model '{model}'.")
        self.errors = errors


class UnusableModelSchemaError(InvalidRequestError):
    """The input cannot be checked against the version's input schema: a schema stored before the
    registration rules (refused now), or one this input would take too long to evaluate."""

    def __init__(self, version: ModelVersion, unusable: UnusableSchemaError, pointer: str) -> None:
        where = f" (at '{unusable.pointer}' of the schema)" if unusable.pointer else ""
        super().__init__(
            f"The input cannot be checked against the input schema of version {version.version} "
            f"of model '{version.name}'{where}: {unusable.reason}."
        )
        self.errors = [FieldError(pointer, "cannot be checked against the model's input schema")]
