"""Request and response bodies of ``POST /v1/embeddings``, as OpenAI's embeddings API defines them."""

import base64
import struct
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.inference.embeddings import Embeddings
from shared.registry.text import MAX_TEXTS

EncodingFormat = Literal["float", "base64"]


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


class EmbeddingOut(BaseModel):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float] | str = Field(description="The vector, or its float32 bytes in base64.")


class EmbeddingsUsageOut(BaseModel):
    prompt_tokens: int = Field(description="Tokens the model read for all texts, special tokens included.")
    total_tokens: int


class CreateEmbeddingsOut(BaseModel):
    object: Literal["list"] = "list"
    data: list[EmbeddingOut]
    model: str = Field(description="The version that made the embeddings, as `name:version`.")
    usage: EmbeddingsUsageOut

    @classmethod
    def of(cls, result: Embeddings, encoding_format: EncodingFormat) -> "CreateEmbeddingsOut":
        encode = base64_float32 if encoding_format == "base64" else list
        data = [EmbeddingOut(index=index, embedding=encode(vector)) for index, vector in enumerate(result.vectors)]
        tokens = sum(result.tokens)
        return cls(data=data, model=result.model, usage=EmbeddingsUsageOut(prompt_tokens=tokens, total_tokens=tokens))


def base64_float32(vector: list[float]) -> str:
    """A vector as OpenAI sends ``encoding_format: base64``: little-endian float32 bytes, base64-encoded."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
