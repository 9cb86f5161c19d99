"""Bodies of the Open Inference Protocol (KServe V2 REST) routes."""

from typing import Any

from pydantic import BaseModel, Field

from shared import __version__
from shared.registry.models import DATATYPES, Model, ModelVersion, TensorSpec

SERVER_NAME = "infergate"
EXTENSIONS = ["binary_tensor_data"]
PLATFORMS = {"onnx": "onnxruntime_onnx", "builtin": "infergate_builtin", "text": "infergate_text"}


class LiveOut(BaseModel):
    live: bool


class ReadyOut(BaseModel):
    ready: bool
    live: bool


class ServerMetadataOut(BaseModel):
    name: str
    version: str
    extensions: list[str]

    @classmethod
    def current(cls) -> "ServerMetadataOut":
        return cls(name=SERVER_NAME, version=__version__, extensions=EXTENSIONS)


class TensorMetadataOut(BaseModel):
    name: str
    datatype: str
    shape: list[int] = Field(description="-1 is a dimension of any size; the first is the batch.")

    @classmethod
    def of(cls, spec: TensorSpec) -> "TensorMetadataOut":
        return cls(name=spec.name, datatype=spec.datatype, shape=list(spec.shape))


class ModelMetadataOut(BaseModel):
    name: str
    versions: list[str]
    platform: str
    inputs: list[TensorMetadataOut]
    outputs: list[TensorMetadataOut]

    @classmethod
    def of(cls, model: Model, version: ModelVersion) -> "ModelMetadataOut":
        return cls(
            name=model.name,
            versions=[str(v.version) for v in sorted(model.versions, key=lambda v: v.version)],
            platform=PLATFORMS[version.runtime],
            inputs=[TensorMetadataOut.of(spec) for spec in version.inputs],
            outputs=[TensorMetadataOut.of(spec) for spec in version.outputs],
        )


class ModelReadyOut(BaseModel):
    name: str
    ready: bool


_TENSOR_IN: dict[str, Any] = {
    "type": "object",
    "required": ["name", "datatype", "shape"],
    "properties": {
        "name": {"type": "string"},
        "datatype": {"type": "string", "enum": sorted(DATATYPES)},
        "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
        "parameters": {"type": "object"},
        "data": {"type": "array", "items": {}, "description": "The elements, flat or nested in row-major order."},
    },
}
# The JSON form of an infer request, for the OpenAPI document: the route reads the raw body, since
# it also takes Triton's binary tensor data extension.
INFER_REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["inputs"],
    "properties": {
        "id": {"type": "string"},
        "parameters": {"type": "object"},
        "inputs": {"type": "array", "items": _TENSOR_IN},
        "outputs": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string"}, "parameters": {"type": "object"}},
            },
        },
    },
}


class InferTensorOut(BaseModel):
    name: str
    datatype: str
    shape: list[int]
    parameters: dict[str, Any] | None = None
    data: list[Any] | None = None


class InferResponseOut(BaseModel):
    model_name: str
    model_version: str
    id: str | None = None
    outputs: list[InferTensorOut]
