"""OpenAI's error object, ``{"error": {"message", "type", "param", "code"}}``, from a problem.

Errors are raised and classified once (``shared.api.problems``' table, the middleware, FastAPI's
validation); this module only renders a problem the way OpenAI's clients read it, so the SDKs raise their
own error classes (``AuthenticationError``, ``NotFoundError``, ``BadRequestError``, ``RateLimitError`` ...).
What OpenAI answers 400 for, our table answers 422 (a well-formed but unacceptable body): here it is 400.
The lines of an OpenAI-dialect batch carry the same object for a line the model refused.
"""

from collections.abc import Sequence
from typing import Any

from shared.kernel.errors import FieldError

# Problem slug -> OpenAI's ``code`` (None for the rest, as OpenAI sends for most of its 400s). A 404 is
# ``model_not_found`` only for a model (the caller passes ``code``): OpenAI's missing file has no code.
CODES = {
    "unauthenticated": "invalid_api_key",
    "rate-limited": "rate_limit_exceeded",
    "input-too-long": "context_length_exceeded",
    "timeout": "timeout",
}


def openai_error(
    status: int, slug: str, detail: str, errors: Sequence[FieldError] | None = None, code: str | None = None
) -> tuple[int, dict[str, Any]]:
    """The status and body OpenAI would answer for this problem (``code``: OpenAI's code, if the error's
    class names one; else the slug's)."""
    status = 400 if status == 422 else status
    kind = "server_error" if status >= 500 else "requests" if status == 429 else "invalid_request_error"
    extra = [f"{error.pointer}: {error.detail}" for error in errors or () if error.detail != detail]
    message = " ".join([detail, "; ".join(extra)]) if extra else detail
    body = {"message": message, "type": kind, "param": _param(errors or ()), "code": code or CODES.get(slug)}
    return status, {"error": body}


def _param(errors: Sequence[FieldError]) -> str | None:
    """The request field at fault (OpenAI names the top-level field: ``input``, ``dimensions``)."""
    pointers = [error.pointer for error in errors if error.pointer.startswith("/") and len(error.pointer) > 1]
    if not pointers:
        return None
    return pointers[0].split("/")[1].replace("~1", "/").replace("~0", "~")


def context_length_message(max_tokens: int, pointer: str) -> str:
    # Worded as OpenAI words it: clients find the limit with r"maximum context length is (\d+) tokens".
    return (
        f"This model's maximum context length is {max_tokens} tokens; the text at {pointer} is longer. "
        "Please shorten or split it."
    )


def model_failed_message(code: str, message: str) -> str:
    """What a request says when the model produced no output for one of its inputs."""
    return f"The model did not produce an output ({code}): {message}"
