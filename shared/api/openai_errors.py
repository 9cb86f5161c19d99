"""OpenAI's error shape, ``{"error": {"message", "type", "param", "code"}}``, on the OpenAI-compatible routes.

Errors are raised and classified once (``shared.api.problems``' table, the middleware, FastAPI's
validation); this module names the routes that answer in OpenAI's shape, which ``shared.openai.errors``
renders, so the SDKs raise their own error classes (``AuthenticationError``, ``NotFoundError``,
``BadRequestError``, ``RateLimitError`` ...). What OpenAI answers 400 for, our table answers 422 (a
well-formed but unacceptable body): there it is 400.
"""

from pydantic import BaseModel

from shared.openai.errors import openai_error

__all__ = ["OPENAI_COMPATIBLE_PATHS", "OpenAiError", "OpenAiErrorDetail", "is_openai_path", "openai_error"]

OPENAI_COMPATIBLE_PATHS = frozenset({"/v1/embeddings"})


class OpenAiErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None
    code: str | None


class OpenAiError(BaseModel):
    """OpenAI's error body, kept on the OpenAI-compatible routes."""

    error: OpenAiErrorDetail


def is_openai_path(path: str) -> bool:
    return path in OPENAI_COMPATIBLE_PATHS
