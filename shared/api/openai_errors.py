"""OpenAI's error shape, ``{"error": {"message", "type", "param", "code"}}``, on the OpenAI-compatible routes.

Errors are raised and classified once (``shared.api.problems``' table, the middleware, FastAPI's
validation); this module only renders a problem the way OpenAI's clients read it, so the SDKs raise their
own error classes (``AuthenticationError``, ``NotFoundError``, ``BadRequestError``, ``RateLimitError`` ...).
What OpenAI answers 400 for, our table answers 422 (a well-formed but unacceptable body): here it is 400.

Two kinds of routes speak it. The pure OpenAI routes (``OPENAI_COMPATIBLE_PATHS``) answer only OpenAI's
body. The routes both dialects share (``SHARED_DIALECT_PATHS``: ``POST /v1/uploads``, ``/v1/batches*``)
answer an RFC 9457 problem document that also carries OpenAI's ``error`` member (an RFC 9457 extension
member: the SDKs read ``body["error"]``), and answer 400 instead of 422 when the route marked the request
as OpenAI's (``mark_openai_dialect``, before the body is validated).
"""

import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from shared.kernel.errors import FieldError

# Path templates, as the routes and the template spell them.
OPENAI_COMPATIBLE_PATHS = frozenset(
    {
        "/v1/embeddings",
        "/v1/files",
        "/v1/files/{file_id}",
        "/v1/files/{file_id}/content",
        "/v1/uploads/{upload_id}/parts",
        "/v1/uploads/{upload_id}/complete",
        "/v1/uploads/{upload_id}/cancel",
    }
)
SHARED_DIALECT_PATHS = frozenset({"/v1/uploads", "/v1/batches", "/v1/batches/{batch_id}", "/v1/batches/{batch_id}/*"})


def _matcher(templates: frozenset[str]) -> re.Pattern[str]:
    """One pattern for the templates: a ``{parameter}`` is one path segment, a ``*`` any rest."""
    parts = (re.escape(t).replace(r"\*", ".+") for t in sorted(templates))
    return re.compile("|".join(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", part) for part in parts))


_OPENAI = _matcher(OPENAI_COMPATIBLE_PATHS)
_SHARED = _matcher(SHARED_DIALECT_PATHS)

# Problem slug -> OpenAI's ``code`` (None for the rest, as OpenAI sends for most of its 400s).
_CODES = {
    "unauthenticated": "invalid_api_key",
    "not-found": "model_not_found",
    "rate-limited": "rate_limit_exceeded",
    "input-too-long": "context_length_exceeded",
    "timeout": "timeout",
}


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


def openai_error(
    status: int, slug: str, detail: str, errors: Sequence[FieldError] | None = None
) -> tuple[int, dict[str, Any]]:
    """The status and body OpenAI would answer for this problem."""
    status = 400 if status == 422 else status
    kind = "server_error" if status >= 500 else "requests" if status == 429 else "invalid_request_error"
    extra = [f"{error.pointer}: {error.detail}" for error in errors or () if error.detail != detail]
    message = " ".join([detail, "; ".join(extra)]) if extra else detail
    body = {"message": message, "type": kind, "param": _param(errors or ()), "code": _CODES.get(slug)}
    return status, {"error": body}


def _param(errors: Sequence[FieldError]) -> str | None:
    """The request field at fault (OpenAI names the top-level field: ``input``, ``dimensions``)."""
    pointers = [error.pointer for error in errors if error.pointer.startswith("/") and len(error.pointer) > 1]
    if not pointers:
        return None
    return pointers[0].split("/")[1].replace("~1", "/").replace("~0", "~")
