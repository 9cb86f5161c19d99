"""The built-in models, always present at version 1."""

from dataclasses import dataclass
from typing import Any

from shared.registry.models import Artifact, Model, ModelVersion, TensorSpec
from shared.registry.text import TextSpec

BUILTIN_CREATED_AT = "2026-11-01T00:00:00.000Z"

_SENTIMENT_INPUT = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {"text": {"type": "string", "minLength": 1, "maxLength": 10000}},
    "required": ["text"],
    "additionalProperties": False,
}
_SENTIMENT_OUTPUT = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "label": {"enum": ["positive", "negative", "neutral"]},
        "compound": {"type": "number", "minimum": -1, "maximum": 1},
        "pos": {"type": "number"},
        "neu": {"type": "number"},
        "neg": {"type": "number"},
    },
    "required": ["label", "compound", "pos", "neu", "neg"],
}
_ANY_OBJECT = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"}
_IRIS_LABELS = ["setosa", "versicolor", "virginica"]
_IRIS_INPUT = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "features": {
            "description": "sepal length, sepal width, petal length, petal width (cm)",
            "type": "array",
            "items": {"type": "number"},
            "minItems": 4,
            "maxItems": 4,
        }
    },
    "required": ["features"],
    "additionalProperties": False,
}
_IRIS_OUTPUT = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "label": {"enum": _IRIS_LABELS},
        "probabilities": {
            "type": "object",
            "properties": {label: {"type": "number", "minimum": 0, "maximum": 1} for label in _IRIS_LABELS},
            "required": _IRIS_LABELS,
        },
    },
    "required": ["label", "probabilities"],
}
# Built by `python -m tools.build_iris_model` from scikit-learn's bundled iris data.
IRIS_ARTIFACT = Artifact(
    sha256="130dd0cd74b130f95acadf59f7c92527953b80323338976659c5ea2f2a1405d2", size=886, location="bundled:iris.onnx"
)

# Open Inference Protocol tensors of the built-ins (echo has none: its tensors are the request's own).
_SENTIMENT_INPUTS = (TensorSpec("text", "BYTES", (-1,)),)
_SENTIMENT_OUTPUTS = (
    TensorSpec("label", "BYTES", (-1,)),
    TensorSpec("compound", "FP32", (-1,)),
    TensorSpec("pos", "FP32", (-1,)),
    TensorSpec("neu", "FP32", (-1,)),
    TensorSpec("neg", "FP32", (-1,)),
)
_IRIS_INPUTS = (TensorSpec("features", "FP32", (-1, 4)),)
_IRIS_OUTPUTS = (TensorSpec("label", "BYTES", (-1,)), TensorSpec("probabilities", "FP32", (-1, 3)))


@dataclass(frozen=True)
class BuiltinTextModel:
    """A built-in text model served from a folder the deployment ships (``<BUILTIN_MODELS_DIR>/<name>/``).

    Its facts are here, so listing models needs no model file; the folder's ``manifest.json`` (written by
    ``tools.embedding_model.build``) must state the same ones: the loader refuses a folder whose manifest
    differs, and the tests check the built model against them.
    """

    name: str
    description: str
    source: str  # the upstream model id
    licence: str  # SPDX id
    spec: TextSpec

    def manifest_facts(self) -> dict[tuple[str, ...], Any]:
        """What ``manifest.json`` must say, by key path (its other keys are the build's own record)."""
        return {
            ("name",): self.name,
            ("task",): self.spec.task,
            ("pooling",): self.spec.pooling,
            ("normalize",): self.spec.normalize,
            ("dimension",): self.spec.dimension,
            ("max_tokens",): self.spec.max_tokens,
            ("source", "model"): self.source,
            ("source", "licence"): self.licence,
        }

    def version(self) -> ModelVersion:
        spec = self.spec
        return ModelVersion(
            self.name,
            1,
            "text",
            spec.input_schema(),
            spec.output_schema(),
            BUILTIN_CREATED_AT,
            inputs=spec.input_tensors(),  # its Open Inference Protocol tensors, as registration stores a tenant's
            outputs=spec.output_tensors(),
            text=spec,
        )


EMBEDDING_MODEL = BuiltinTextModel(
    name="all-minilm-l6-v2",
    description=(
        "Sentence embeddings (384 numbers, L2-normalised) of English text up to 256 tokens: "
        "sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), int8 ONNX, served offline."
    ),
    source="sentence-transformers/all-MiniLM-L6-v2",
    licence="Apache-2.0",
    spec=TextSpec(task="feature-extraction", max_tokens=256, pooling="mean", normalize=True, dimension=384),
)
BUILTIN_TEXT_MODELS: dict[str, BuiltinTextModel] = {EMBEDDING_MODEL.name: EMBEDDING_MODEL}

BUILTIN_MODELS: tuple[Model, ...] = (
    Model(name=EMBEDDING_MODEL.name, description=EMBEDDING_MODEL.description, versions=(EMBEDDING_MODEL.version(),)),
    Model(
        name="echo",
        description="Returns its input unchanged. For tests and latency floors.",
        versions=(ModelVersion("echo", 1, "builtin", _ANY_OBJECT, _ANY_OBJECT, BUILTIN_CREATED_AT),),
    ),
    Model(
        name="iris",
        description="Iris species from four flower measurements: an ONNX classifier (example artifact).",
        versions=(
            ModelVersion(
                "iris",
                1,
                "onnx",
                _IRIS_INPUT,
                _IRIS_OUTPUT,
                BUILTIN_CREATED_AT,
                artifact=IRIS_ARTIFACT,
                inputs=_IRIS_INPUTS,
                outputs=_IRIS_OUTPUTS,
            ),
        ),
    ),
    Model(
        name="sentiment",
        description="VADER lexicon sentiment of an English text (label from compound at +/-0.05).",
        versions=(
            ModelVersion(
                "sentiment",
                1,
                "builtin",
                _SENTIMENT_INPUT,
                _SENTIMENT_OUTPUT,
                BUILTIN_CREATED_AT,
                inputs=_SENTIMENT_INPUTS,
                outputs=_SENTIMENT_OUTPUTS,
            ),
        ),
    ),
)
