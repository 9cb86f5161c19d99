"""The built-in models, always present at version 1."""

from shared.registry.models import Artifact, Model, ModelVersion, TensorSpec

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

BUILTIN_MODELS: tuple[Model, ...] = (
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
