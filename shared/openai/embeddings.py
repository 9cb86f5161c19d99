"""OpenAI's embeddings API on the wire: the request body, which inputs are texts, and the answer.

``POST /v1/embeddings`` and the lines of an OpenAI-dialect batch (whose ``body`` is such a request) read
and answer it through this one module, so a batch's output line holds exactly what the route answers for
the same body. What OpenAI refuses is refused here too: an empty string, a string that is not valid
Unicode (a lone surrogate), an empty list, more than ``MAX_TEXTS`` texts. Token arrays, which OpenAI
accepts, are refused: their ids come from OpenAI's own tokenizer (tiktoken), and this service's models
read text through their own tokenizers, so those ids mean nothing to them.
"""

import base64
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from shared.kernel.jsoncodec import plain_json_problem
from shared.registry.models import ModelVersion
from shared.registry.text import MAX_TEXTS, TextSpec

EncodingFormat = Literal["float", "base64"]

NOT_TEXT_REFUSAL = (
    "'input' holds token ids: this service reads text with each model's own tokenizer, so ids counted with "
    "OpenAI's tokenizer mean nothing to its models. Send the texts as strings. LangChain's OpenAIEmbeddings "
    "sends token ids unless it is built with check_embedding_ctx_length=False (or the environment variable "
    "OPENAI_CHECK_EMBEDDING_CTX_LENGTH=false)."
)


class CreateEmbeddingsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")  # OpenAI refuses arguments it does not know, too

    model: str = Field(
        examples=["my-embedder", "my-embedder:2"],
        description="A `feature-extraction` text model: `name` or `name:version`, the tenant's own or a built-in.",
    )
    input: str | list[str] | list[int] | list[list[int]] = Field(
        examples=[["The cat sat on the mat.", "A dog ran."]],
        description=f"A text or up to {MAX_TEXTS} texts, none empty, each within the model's maximum tokens. "
        "Token arrays are refused (400): the models read text with their own tokenizers.",
    )
    encoding_format: EncodingFormat = Field(
        default="float",
        description="`float`: arrays of numbers; `base64`: each vector's little-endian float32 bytes, base64.",
    )
    dimensions: int | None = Field(
        default=None, ge=1, description="Only the model's own dimension: no registered model supports shortening."
    )
    user: str | None = Field(default=None, description="Accepted and ignored (never stored or logged).")


@dataclass(frozen=True)
class TextsProblem:
    """Why ``input`` holds no texts to run, and where (a JSON pointer into the request body)."""

    message: str
    pointer: str


@dataclass(frozen=True)
class Texts:
    texts: list[str]
    single: bool  # ``input`` was one string (an error then points at ``/input``, not ``/input/0``)

    def pointer(self, index: int) -> str:
        return "/input" if self.single else f"/input/{index}"


def read_texts(value: object) -> Texts | TextsProblem:
    """The texts of ``input`` (a string or a list of strings), or the first reason it has none to run."""
    if isinstance(value, str):
        found = Texts([value], single=True)
    elif isinstance(value, list):
        if any(not isinstance(item, str) for item in value):
            if all(_is_token_array(item) or _is_token(item) for item in value):
                return TextsProblem(NOT_TEXT_REFUSAL, "/input")
            return TextsProblem("'input' must be a string or a list of strings.", "/input")
        if not value:
            return TextsProblem("'input' must hold at least one text.", "/input")
        if len(value) > MAX_TEXTS:
            return TextsProblem(f"'input' may hold at most {MAX_TEXTS} texts; this request has {len(value)}.", "/input")
        found = Texts(list(value), single=False)
    else:
        return TextsProblem("'input' must be a string or a list of strings.", "/input")
    for index, text in enumerate(found.texts):
        if not text:
            if found.single:
                return TextsProblem("'input' cannot be an empty string.", "/input")
            return TextsProblem(f"'input' cannot hold an empty string: /input/{index} is empty.", f"/input/{index}")
        problem = plain_json_problem(text)  # a lone surrogate: what the predict route refuses too
        if problem is not None:
            pointer = found.pointer(index)
            return TextsProblem(f"{pointer} {problem}.", pointer)
    return found


def _is_token(item: object) -> bool:
    return isinstance(item, int) and not isinstance(item, bool)


def _is_token_array(item: object) -> bool:
    return isinstance(item, list) and all(_is_token(token) for token in item)


def embeddings_spec(version: ModelVersion) -> TextSpec | None:
    """The version's text spec if it makes embeddings (a ``feature-extraction`` text model), else None."""
    spec = version.text
    if version.runtime != "text" or spec is None or spec.task != "feature-extraction":
        return None
    return spec


def not_embeddings_message(name: str) -> str:
    return f"Model '{name}' does not make embeddings: use a text model of task feature-extraction."


def dimensions_message(name: str, dimension: int | None) -> str:
    return (
        f"Model '{name}' does not support shortening embeddings: 'dimensions' must be "
        f"{dimension} (its dimension) or left out."
    )


class EmbeddingOut(BaseModel):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float] | str = Field(description="The vector, or its float32 bytes in base64.")


class EmbeddingsUsageOut(BaseModel):
    prompt_tokens: int = Field(description="Tokens the model read for all texts, special tokens included.")
    total_tokens: int


class EmbeddingsResult(Protocol):
    @property
    def model(self) -> str: ...

    @property
    def vectors(self) -> list[list[float]]: ...

    @property
    def tokens(self) -> list[int]: ...


class CreateEmbeddingsOut(BaseModel):
    object: Literal["list"] = "list"
    data: list[EmbeddingOut]
    model: str = Field(description="The version that made the embeddings, as `name:version`.")
    usage: EmbeddingsUsageOut

    @classmethod
    def of(cls, result: EmbeddingsResult, encoding_format: EncodingFormat) -> "CreateEmbeddingsOut":
        return cls.render(result.model, result.vectors, result.tokens, encoding_format)

    @classmethod
    def render(
        cls, model: str, vectors: Sequence[list[float]], tokens: Sequence[int], encoding_format: EncodingFormat
    ) -> "CreateEmbeddingsOut":
        encode = base64_float32 if encoding_format == "base64" else list
        data = [EmbeddingOut(index=index, embedding=encode(vector)) for index, vector in enumerate(vectors)]
        total = sum(tokens)
        return cls(data=data, model=model, usage=EmbeddingsUsageOut(prompt_tokens=total, total_tokens=total))


def base64_float32(vector: list[float]) -> str:
    """A vector as OpenAI sends ``encoding_format: base64``: little-endian float32 bytes, base64-encoded."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
