"""Text models: what a registrant declares about a tokenizer-bundled ONNX model, and what the registry records.

A text version's input and output JSON Schemas are derived from its task here, in one place, so the
input is checked (``text``, ``truncate``, ``top_k``) before it is queued, as any model's input is.
"""

from dataclasses import dataclass
from typing import Any, Literal, get_args

Task = Literal["feature-extraction", "text-classification"]
# mean: over the tokens the attention mask keeps; cls: the first token's vector; model: the graph's output is
# already one vector per text ([batch, dim], e.g. a sentence-transformers export's ``sentence_embedding``).
Pooling = Literal["mean", "cls", "model"]
Activation = Literal["softmax", "sigmoid"]

TASKS: tuple[str, ...] = get_args(Task)
MAX_TOKENS_CAP = 8192  # the longest input any text model may take, whatever its files say
MAX_LABELS = 1000
MAX_LABEL_CHARS = 128
_SCHEMA = "https://json-schema.org/draft/2020-12/schema"


@dataclass(frozen=True)
class TextOptions:
    """What the registrant declares. ``max_tokens`` may lower the length the model's files allow."""

    task: Task
    pooling: Pooling = "mean"
    normalize: bool = False
    activation: Activation = "softmax"
    top_k: int = 1
    max_tokens: int | None = None


@dataclass(frozen=True)
class TextSpec:
    """A registered text version: its task and options, and what the inspector found in the archive.

    ``dimension`` is the embedding's length (feature extraction); ``labels`` the classifier's labels in
    output order (``config.json`` ``id2label``); ``max_tokens`` the longest input, special tokens included.
    """

    task: Task
    max_tokens: int
    pooling: Pooling = "mean"
    normalize: bool = False
    dimension: int | None = None
    activation: Activation = "softmax"
    top_k: int = 1
    labels: tuple[str, ...] = ()

    def input_schema(self) -> dict[str, Any]:
        properties: dict[str, Any] = {
            "text": {"type": "string", "description": "The text; an empty one is allowed."},
            "truncate": {
                "type": "boolean",
                "description": f"Cut a text longer than {self.max_tokens} tokens instead of refusing it.",
            },
        }
        if self.task == "text-classification":
            properties["top_k"] = {"type": "integer", "minimum": 1, "maximum": len(self.labels)}
        return {
            "$schema": _SCHEMA,
            "type": "object",
            "properties": properties,
            "required": ["text"],
            "additionalProperties": False,
        }

    def output_schema(self) -> dict[str, Any]:
        tokens = {"type": "integer", "minimum": 0, "description": "Tokens the model read (after truncation)."}
        if self.task == "feature-extraction":
            vector = {"type": "array", "items": {"type": "number"}, "minItems": self.dimension}
            properties: dict[str, Any] = {"embedding": vector, "tokens": tokens}
            required = ["embedding", "tokens"]
        else:
            scored = {
                "type": "object",
                "properties": {"label": {"type": "string"}, "score": {"type": "number"}},
                "required": ["label", "score"],
            }
            properties = {"labels": {"type": "array", "items": scored}, "tokens": tokens}
            required = ["labels", "tokens"]
        return {"$schema": _SCHEMA, "type": "object", "properties": properties, "required": required}
