"""OpenAI's error shape, ``{"error": {"message", "type", "param", "code"}}``, on the OpenAI-compatible routes.

Errors are raised and classified once (``shared.api.problems``' table, the middleware, FastAPI's
validation); this module names the routes that answer in OpenAI's shape, which ``shared.openai.errors``
renders, so the SDKs raise their own error classes (``AuthenticationError``, ``NotFoundError``,
``BadRequestError``, ``RateLimitError`` ...). What OpenAI answers 400 for, our table answers 422 (a
well-formed but unacceptable body): there it is 400.

Two kinds of routes speak it. The pure OpenAI routes (``OPENAI_COMPATIBLE_PATHS``) answer only OpenAI's
body. The routes both dialects share (``SHARED_DIALECT_PATHS``: ``POST /v1/uploads``, ``/v1/batches*``)
answer an RFC 9457 problem document that also carries OpenAI's ``error`` member (an RFC 9457 extension
member: the SDKs read ``body["error"]``), and answer 400 instead of 422 when the route marked the request
as OpenAI's (``mark_openai_dialect``, before the body is validated).
"""

import re

from pydantic import BaseModel

from shared.openai.errors import openai_error

__all__ = ["OPENAI_COMPATIBLE_PATHS", "OpenAiError", "OpenAiErrorDetail", "is_openai_path", "openai_error"]

# Path templates, as the routes and the template spell them.
OPENAI_COMPATIBLE_PATHS = frozenset(
    {
        "/v1/embeddings",
        "/v1/files",
        "/v1/files/{file_id}",
        "/v1/files/{file_id}/content",
        "/v1/files/*",  # any other path under it (a 404 or 405 answers in the same shape)
        "/v1/uploads/{upload_id}/parts",
        "/v1/uploads/{upload_id}/complete",
        "/v1/uploads/{upload_id}/cancel",
    }
)
SHARED_DIALECT_PATHS = frozenset({"/v1/uploads", "/v1/uploads/*", "/v1/batches", "/v1/batches/*"})


def _matcher(templates: frozenset[str]) -> re.Pattern[str]:
    """One pattern for the templates: a ``{parameter}`` is one path segment, a ``*`` any rest."""
    parts = (re.escape(t).replace(r"\*", ".+") for t in sorted(templates))
    return re.compile("|".join(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", part) for part in parts))


_OPENAI = _matcher(OPENAI_COMPATIBLE_PATHS)
_SHARED = _matcher(SHARED_DIALECT_PATHS)


class OpenAiErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None
    code: str | None


class OpenAiError(BaseModel):
    """OpenAI's error body, kept on the OpenAI-compatible routes."""

    error: OpenAiErrorDetail


def is_openai_path(path: str) -> bool:
    return _OPENAI.fullmatch(path) is not None


def is_shared_dialect_path(path: str) -> bool:
    return _SHARED.fullmatch(path) is not None
