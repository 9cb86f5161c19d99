"""Registering a model version: check the schemas and the uploaded artifact, then number and store it.

An ``onnx`` version is one ``.onnx`` file with the caller's schemas; a ``text`` version is an archive
(graph, ``tokenizer.json``, ``config.json``) with a declared task, whose schemas follow from the task.

Nothing is written unless every check passed: a bad schema, an unusable upload, or a file the
inspector cannot load is a 422 and leaves the registry as it was.
"""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.kernel.clock import to_rfc3339, utc_now
from shared.kernel.errors import FieldError, InvalidRequestError, TransientError
from shared.kernel.observability import logger
from shared.registry.inspector_contract import ArtifactInspector, InspectRequest, Rejected, TensorSpecWire
from shared.registry.models import (
    ArtifactRejectedError,
    BuiltinModelError,
    InvalidSchemaError,
    JsonSchema,
    ModelVersion,
    NewVersion,
    Runtime,
)
from shared.registry.ports import ModelStore
from shared.registry.schema_rules import UnusableSchemaError, check_schema
from shared.registry.service import ModelRegistry
from shared.registry.text import TextOptions
from shared.uploads.models import Purpose
from shared.uploads.service import UploadService

# Bytes (JSON) the graph's inputs and outputs may take to describe: with two schemas of at most
# MAX_SCHEMA_BYTES and a description of at most 1,000 characters, the version's item stays far under
# DynamoDB's 400 KB (the store keeps JSON with spaces, at most 1.5 times as long).
MAX_TENSORS_BYTES = 64 * 1024


@dataclass(frozen=True)
class VersionRequest:
    """An ``onnx`` version brings its schemas; a ``text`` version its task (``text``), its schemas derived."""

    runtime: Runtime
    upload_id: str
    input_schema: JsonSchema | None
    output_schema: JsonSchema | None
    description: str
    text: TextOptions | None = None


class RuntimeNotRegistrableError(InvalidRequestError):
    def __init__(self) -> None:
        message = "Only 'onnx' and 'text' versions can be registered; built-in runtimes ship with the service."
        super().__init__(message)
        self.errors = [FieldError("/runtime", message)]


class RuntimeFieldError(InvalidRequestError):
    """A field the version's runtime needs is missing, or one it derives itself was sent."""

    def __init__(self, pointer: str, message: str) -> None:
        super().__init__(f"The request does not fit its runtime: '{pointer}' {message}.")
        self.errors = [FieldError(pointer, message)]


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
        if request.runtime not in ("onnx", "text"):
            raise RuntimeNotRegistrableError()
        _check_runtime_fields(request)
        if request.input_schema is not None and request.output_schema is not None:
            _check_schema("/input_schema", request.input_schema)
            _check_schema("/output_schema", request.output_schema)
        upload = self._uploads.ready_for(tenant, request.upload_id, Purpose.MODEL_ARTIFACT, "/upload_id")
        verdict = self._inspector.inspect(
            InspectRequest(
                upload_key=upload.key,
                size=upload.size,
                destination_prefix=artifact_prefix(tenant, name),
                text=request.text,
            )
        )
        if isinstance(verdict, Rejected):
            logger.info("model artifact rejected", extra={"upload_id": upload.id, "model": name})
            raise ArtifactRejectedError(verdict.reason, "text model archive" if request.text else "ONNX model")
        _check_tensors([*verdict.inputs, *verdict.outputs])
        new = NewVersion(
            name=name,
            runtime=request.runtime,
            input_schema=verdict.text.input_schema() if verdict.text else request.input_schema or {},
            output_schema=verdict.text.output_schema() if verdict.text else request.output_schema or {},
            description=request.description,
            artifact=verdict.artifact,
            inputs=verdict.text.input_tensors() if verdict.text else tuple(s.to_domain() for s in verdict.inputs),
            outputs=verdict.text.output_tensors() if verdict.text else tuple(s.to_domain() for s in verdict.outputs),
            text=verdict.text,
        )
        if (new.text is None) != (request.runtime == "onnx"):
            raise TransientError("the model artifact inspector answered for another runtime")
        version = self._store.add_version(tenant, new, to_rfc3339(utc_now()))
        logger.info(
            "model version registered",
            extra={"model": name, "version": version.version, "sha256": verdict.sha256, "size": verdict.size},
        )
        return version


def _check_runtime_fields(request: VersionRequest) -> None:
    """``onnx``: both schemas, no ``text``. ``text``: the task's options, no schemas (they are derived)."""
    if request.runtime == "onnx":
        for pointer, value in (("/input_schema", request.input_schema), ("/output_schema", request.output_schema)):
            if value is None:
                raise RuntimeFieldError(pointer, "is required for runtime 'onnx'")
        if request.text is not None:
            raise RuntimeFieldError("/text", "is only for runtime 'text'")
        return
    if request.text is None:
        raise RuntimeFieldError("/text", "is required for runtime 'text' (at least its task)")
    for pointer, value in (("/input_schema", request.input_schema), ("/output_schema", request.output_schema)):
        if value is not None:
            raise RuntimeFieldError(pointer, "is derived from the task for runtime 'text'; leave it out")


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
