"""Request and response bodies of ``POST /v1/embeddings``, as OpenAI's embeddings API defines them.

They live in ``shared.openai.embeddings``, where an OpenAI-dialect batch renders its output lines too."""

from shared.openai.embeddings import (
    CreateEmbeddingsOut,
    CreateEmbeddingsRequest,
    EmbeddingOut,
    EmbeddingsUsageOut,
    EncodingFormat,
    base64_float32,
)

__all__ = [
    "CreateEmbeddingsOut",
    "CreateEmbeddingsRequest",
    "EmbeddingOut",
    "EmbeddingsUsageOut",
    "EncodingFormat",
    "base64_float32",
]
