"""Registering a model version: check the schemas and the uploaded artifact, then number and store it.

Nothing is written unless every check passed: a bad schema, an unusable upload, or a file the
inspector cannot load is a 422 and leaves the registry as it was.
"""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.kernel.clock import to_rfc3339, utc_now
from shared.kernel.errors import FieldError, InvalidRequestError
from shared.kernel.observability import logger
from shared.registry.inspector_contract import ArtifactInspector, InspectRequest, Rejected, TensorSpecWire
from shared.registry.models import BuiltinModelError, JsonSchema, ModelVersion, NewVersion, Runtime
from shared.registry.ports import ModelStore
from shared.registry.schema_rules import UnusableSchemaError, check_schema
from shared.registry.service import ModelRegistry
from shared.uploads.models import Purpose
from shared.uploads.service import UploadService

# Bytes (JSON) the graph's inputs and outputs may take to describe: with two schemas of at most
# MAX_SCHEMA_BYTES and a description of at most 1,000 characters, the version's item stays far under
# DynamoDB's 400 KB (the store keeps JSON with spaces, at most 1.5 times as long).
MAX_TENSORS_BYTES = 64 * 1024


@dataclass(frozen=True)
class VersionRequest:
    runtime: Runtime
    upload_id: str
    input_schema: JsonSchema
    output_schema: JsonSchema
    description: str


class InvalidSchemaError(InvalidRequestError):
    def __init__(self, pointer: str, message: str) -> None:
        super().__init__("A schema is not a usable JSON Schema (draft 2020-12, self-contained, RE2 patterns).")
        self.errors = [FieldError(pointer, message)]


class RuntimeNotRegistrableError(InvalidRequestError):
    def __init__(self) -> None:
        message = "Only 'onnx' versions can be registered; built-in runtimes ship with the service."
        super().__init__(message)
        self.errors = [FieldError("/runtime", message)]


class ArtifactRejectedError(InvalidRequestError):
    def __init__(self, reason: str) -> None:
        message = f"The uploaded file is not a usable ONNX model: {reason}"
        super().__init__(message)
        self.errors = [FieldError("/upload_id", message)]


def artifact_prefix(tenant: str, name: str) -> str:
    return f"artifacts/{tenant}/{name}/"


class ModelRegistration:
    def __init__(
        self, registry: ModelRegistry, store: ModelStore, uploads: UploadService, inspector: ArtifactInspector
    ) -> None:
        self._registry = registry
        self._store = store
        self._uploads = uploads
        self._inspector = inspector

    def register(self, tenant: str, name: str, request: VersionRequest) -> ModelVersion:
        if self._registry.is_builtin(name):
            raise BuiltinModelError(name)
        if request.runtime != "onnx":
            raise RuntimeNotRegistrableError()
        _check_schema("/input_schema", request.input_schema)
        _check_schema("/output_schema", request.output_schema)
        upload = self._uploads.ready_for(tenant, request.upload_id, Purpose.MODEL_ARTIFACT, "/upload_id")
        verdict = self._inspector.inspect(
            InspectRequest(upload_key=upload.key, size=upload.size, destination_prefix=artifact_prefix(tenant, name))
        )
        if isinstance(verdict, Rejected):
            logger.info("model artifact rejected", extra={"upload_id": upload.id, "model": name})
            raise ArtifactRejectedError(verdict.reason)
        _check_tensors([*verdict.inputs, *verdict.outputs])
        new = NewVersion(
            name=name,
            runtime="onnx",
            input_schema=request.input_schema,
            output_schema=request.output_schema,
            description=request.description,
            artifact=verdict.artifact,
            inputs=tuple(spec.to_domain() for spec in verdict.inputs),
            outputs=tuple(spec.to_domain() for spec in verdict.outputs),
        )
        version = self._store.add_version(tenant, new, to_rfc3339(utc_now()))
        logger.info(
            "model version registered",
            extra={"model": name, "version": version.version, "sha256": verdict.sha256, "size": verdict.size},
        )
        return version


def _check_tensors(tensors: Sequence[TensorSpecWire]) -> None:
    size = len(json.dumps([tensor.model_dump() for tensor in tensors]))
    if size > MAX_TENSORS_BYTES:
        raise ArtifactRejectedError(
            f"its inputs and outputs take {size:,} bytes to describe; at most {MAX_TENSORS_BYTES:,} are allowed"
        )


def _check_schema(pointer: str, schema: Mapping[str, Any]) -> None:
    """The rules of ``shared.registry.schema_rules`` (the meta-schema, no reference out of the document,
    RE2 patterns, nothing endless), then: an input or output is one JSON object."""
    try:
        check_schema(schema)
    except UnusableSchemaError as unusable:
        raise InvalidSchemaError(pointer + unusable.pointer, unusable.reason) from None
    if schema.get("type", "object") != "object":
        raise InvalidSchemaError(pointer + "/type", "must describe a JSON object (type 'object')")
