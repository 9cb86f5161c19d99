"""The built-in models, always present at version 1."""

from shared.registry.models import Model, ModelVersion

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

BUILTIN_MODELS: tuple[Model, ...] = (
    Model(
        name="echo",
        description="Returns its input unchanged. For tests and latency floors.",
        versions=(ModelVersion("echo", 1, "builtin", _ANY_OBJECT, _ANY_OBJECT, BUILTIN_CREATED_AT),),
    ),
    Model(
        name="sentiment",
        description="VADER lexicon sentiment of an English text (label from compound at +/-0.05).",
        versions=(ModelVersion("sentiment", 1, "builtin", _SENTIMENT_INPUT, _SENTIMENT_OUTPUT, BUILTIN_CREATED_AT),),
    ),
)
