"""Text models: what a registrant declares about a tokenizer-bundled ONNX model, and what the registry records.

A text version's input and output JSON Schemas are derived from its task here, in one place, so the
input is checked (``text``, ``truncate``, ``top_k``) before it is queued, as any model's input is. So are
its Open Inference Protocol tensors (what the registry stores and OIP metadata shows) and the mapping
between one row of those tensors and the JSON input and output, so infer validates the same JSON.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from shared.registry.tensor_specs import TensorSpec

Task = Literal["feature-extraction", "text-classification"]
# mean: over the tokens the attention mask keeps; cls: the first token's vector; model: the graph's output is
# already one vector per text ([batch, dim], e.g. a sentence-transformers export's ``sentence_embedding``).
Pooling = Literal["mean", "cls", "model"]
Activation = Literal["softmax", "sigmoid"]

TASKS: tuple[str, ...] = get_args(Task)
MAX_TOKENS_CAP = 8192  # the longest input any text model may take, whatever its files say
MAX_TEXTS = 2048  # the most texts one request may run (OpenAI's embeddings limit): /v1/embeddings and OIP infer
MAX_LABELS = 1000
MAX_LABEL_CHARS = 128
_SCHEMA = "https://json-schema.org/draft/2020-12/schema"
TEXT_TENSOR = "text"  # the OIP input: BYTES [-1], one UTF-8 string per row
TRUNCATE_PARAMETER = "truncate"  # an OIP request parameter (per-request options are parameters in OIP)


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

    # The Open Inference Protocol's view: one text per row of a BYTES tensor; ``truncate`` is a request
    # parameter. A classifier answers every label's score in label order (a fixed [-1, labels] layout numpy
    # clients can index, thresholds per label for sigmoid included) and the labels' names beside them,
    # since OIP metadata has no place for them; the ranked ``top_k`` is the JSON routes' form.

    def input_tensors(self) -> tuple[TensorSpec, ...]:
        return (TensorSpec(TEXT_TENSOR, "BYTES", (-1,)),)

    def output_tensors(self) -> tuple[TensorSpec, ...]:
        tokens = TensorSpec("tokens", "INT64", (-1,))
        if self.task == "feature-extraction":
            return (TensorSpec("embedding", "FP32", (-1, self.dimension or -1)), tokens)
        width = len(self.labels)
        return (TensorSpec("scores", "FP32", (-1, width)), TensorSpec("labels", "BYTES", (-1, width)), tokens)

    def tensor_example(self, text: Any, truncate: bool) -> dict[str, Any]:
        """The JSON input for one row of the ``text`` tensor (a classifier is asked for every label)."""
        example: dict[str, Any] = {"text": text, "truncate": truncate}
        if self.task == "text-classification":
            example["top_k"] = len(self.labels)
        return example

    def tensor_row(self, output: Mapping[str, Any]) -> dict[str, Any]:
        """One JSON output as its row of the output tensors: a classifier's ranked labels in label order."""
        if self.task == "feature-extraction":
            return {"embedding": output["embedding"], "tokens": output["tokens"]}
        scores = {entry["label"]: entry["score"] for entry in output["labels"]}
        in_order = [scores[label] for label in self.labels]
        return {"scores": in_order, "labels": list(self.labels), "tokens": output["tokens"]}
