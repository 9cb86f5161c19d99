"""RFC 9457 problem details, and the one table that maps errors to them."""

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.api.bodies import body_rule
from shared.api.openai_errors import (
    OpenAiError,
    OpenAiErrorDetail,
    is_openai_path,
    is_shared_dialect_path,
    openai_error,
)
from shared.api.routes import allowed_methods
from shared.batches.models import BatchModelNotFoundError
from shared.inference.errors import (
    ContextLengthExceededError,
    InvalidInferRequestError,
    ModelTimeoutError,
    ModelUnavailableError,
    PredictionFailedError,
)
from shared.kernel.errors import (
    BadRequestError,
    ConflictError,
    FieldError,
    InfergateError,
    InvalidRequestError,
    NotFoundError,
    TransientError,
)
from shared.kernel.jsoncodec import DuplicateKeyError
from shared.keys.claims import ClaimsRefusedError
from shared.keys.models import AuthenticationError, KeyLimitReachedError, PermissionDeniedError
from shared.predictions.models import InputTooLargeError
from shared.ratelimit.models import RateLimitedError
from shared.registry.models import (
    ArtifactRejectedError,
    InvalidModelInputError,
    InvalidSchemaError,
    ModelNotFoundError,
    UnusableModelSchemaError,
)
from shared.uploads.models import UnusableUploadError

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:infergate:problem:"


class ProblemFieldError(BaseModel):
    pointer: str = Field(description="JSON pointer into the request body, or '#/<where>/<name>' for a parameter.")
    detail: str


class Problem(BaseModel):
    """An RFC 9457 problem document (``application/problem+json``)."""

    type: str = Field(examples=["urn:infergate:problem:validation-failed"])
    title: str
    status: int
    detail: str
    instance: str
    errors: list[ProblemFieldError] | SkipJsonSchema[None] = Field(
        default=None, description="What was wrong with each field, when the request's fields were judged."
    )
    error: OpenAiErrorDetail | SkipJsonSchema[None] = Field(
        default=None,
        description="OpenAI's error object, on the routes both dialects share (`POST /v1/uploads`, `/v1/batches`), "
        "so that OpenAI's SDKs read the error too.",
    )


class OipError(BaseModel):
    """The Open Inference Protocol's error body, kept on every ``/v2`` route."""

    error: str


def is_oip_path(path: str) -> bool:
    return path == "/v2" or path.startswith("/v2/")


def error_document(
    request_path: str,
    status: int,
    slug: str,
    detail: str,
    errors: Sequence[FieldError] | None = None,
    *,
    openai_dialect: bool = False,
    openai_code: str | None = None,
) -> tuple[int, dict[str, Any], str]:
    """The one choice of error shape, by route: the status, body and media type of a problem.

    RFC 9457 everywhere, but ``{"error": detail}`` on the Open Inference Protocol's routes and OpenAI's
    ``{"error": {"message", "type", "param", "code"}}`` on the OpenAI-compatible ones (``openai_errors``).
    On the routes both dialects share, the problem document also carries OpenAI's ``error`` member, and
    a request the route marked as OpenAI's (``openai_dialect``) gets OpenAI's 400 for our 422.
    """
    if is_openai_path(request_path):
        status, body = openai_error(status, slug, detail, errors, openai_code)
        return status, body, "application/json"
    if is_oip_path(request_path):
        if errors:
            detail = f"{detail} " + "; ".join(f"{e.pointer}: {e.detail}" for e in errors)
        return status, {"error": detail}, "application/json"
    shared = is_shared_dialect_path(request_path)
    if shared and openai_dialect and status == 422:
        status = 400
    problem: dict[str, Any] = {
        "type": TYPE_PREFIX + slug,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": request_path,
    }
    if errors is not None:
        problem["errors"] = [{"pointer": e.pointer, "detail": e.detail} for e in errors]
    if shared:
        problem["error"] = openai_error(status, slug, detail, errors, openai_code)[1]["error"]
    return status, problem, PROBLEM_MEDIA_TYPE


def problem_response(
    request: Request,
    status: int,
    slug: str,
    detail: str,
    errors: Sequence[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
    openai_code: str | None = None,
) -> JSONResponse:
    dialect = bool(getattr(request.state, "openai_dialect", False))
    status, body, media_type = error_document(
        request.url.path, status, slug, detail, errors, openai_dialect=dialect, openai_code=openai_code
    )
    return JSONResponse(body, status_code=status, media_type=media_type, headers=dict(headers or {}))


# Domain error class -> (status, slug). The most specific class wins (checked in MRO order).
ERROR_TABLE: dict[type[Exception], tuple[int, str]] = {
    AuthenticationError: (401, "unauthenticated"),
    PermissionDeniedError: (403, "forbidden"),
    ClaimsRefusedError: (403, "forbidden"),
    NotFoundError: (404, "not-found"),
    ConflictError: (409, "conflict"),
    KeyLimitReachedError: (409, "key-limit-reached"),
    RateLimitedError: (429, "rate-limited"),
    InputTooLargeError: (413, "payload-too-large"),
    ContextLengthExceededError: (422, "input-too-long"),
    InvalidModelInputError: (422, "invalid-model-input"),
    PredictionFailedError: (422, "prediction-failed"),
    ModelTimeoutError: (422, "timeout"),
    InvalidSchemaError: (422, "invalid-schema"),
    UnusableModelSchemaError: (422, "unusable-model-schema"),
    ArtifactRejectedError: (422, "invalid-artifact"),
    UnusableUploadError: (422, "unusable-upload"),
    ModelUnavailableError: (503, "model-unavailable"),
    InvalidRequestError: (422, "invalid-request"),
    InvalidInferRequestError: (400, "invalid-infer-request"),
    BadRequestError: (400, "bad-request"),
    TransientError: (503, "service-unavailable"),
}
# Domain error class -> OpenAI's ``code``, where the class says more than its problem slug.
OPENAI_CODES: dict[type[Exception], str] = {
    ModelNotFoundError: "model_not_found",
    BatchModelNotFoundError: "model_not_found",
}
_EXTRA_HEADERS: dict[type[Exception], dict[str, str]] = {
    AuthenticationError: {"WWW-Authenticate": "Bearer"},
    TransientError: {"Retry-After": "1"},
    ModelUnavailableError: {"Retry-After": "5"},
}
# Starlette/FastAPI raise these themselves: 400 only when the body cannot be parsed at all.
_HTTP_SLUGS = {400: "malformed-json", 404: "not-found", 405: "method-not-allowed", 413: "payload-too-large"}
_HTTP_DETAILS = {
    400: "The request body could not be parsed as JSON (malformed, not UTF-8, or nested too deeply).",
    404: "There is no such route.",
    405: "This route does not support that method.",
}


def _lookup(exc: Exception) -> tuple[int, str, dict[str, str]]:
    for cls in type(exc).__mro__:
        if cls in ERROR_TABLE:
            status, slug = ERROR_TABLE[cls]
            headers = next((h for c, h in _EXTRA_HEADERS.items() if isinstance(exc, c)), {})
            return status, slug, headers
    raise LookupError(type(exc).__name__)


async def domain_error_handler(request: Request, exc: Exception) -> JSONResponse:
    status, slug, headers = _lookup(exc)
    if isinstance(exc, RateLimitedError):
        headers = {**headers, "Retry-After": str(exc.retry_after)}
    errors = getattr(exc, "errors", None)
    code = next((code for cls, code in OPENAI_CODES.items() if isinstance(exc, cls)), None)
    return problem_response(request, status, slug, str(exc), errors, headers, openai_code=code)


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    raw = list(exc.errors())
    if any(error.get("type") == "json_invalid" for error in raw):
        # FastAPI raises this ``from`` the decoder's error: a duplicate key is named, with where it is.
        if isinstance(exc.__cause__, DuplicateKeyError):
            duplicate = exc.__cause__
            detail = f"The request body is not valid JSON: {duplicate.msg}."
            errors = [FieldError(duplicate.pointer, "is a duplicate key")]
            return problem_response(request, 400, "malformed-json", detail, errors)
        return problem_response(request, 400, "malformed-json", "The request body is not valid JSON.")
    errors = [_field_error(error) for error in raw]
    in_body = all(error.get("loc", ("body",))[0] == "body" for error in raw)
    if in_body:
        return problem_response(request, 422, "validation-failed", "The request body is invalid.", errors)
    return problem_response(request, 400, "bad-request", "A request parameter is invalid.", errors)


async def http_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    slug = _HTTP_SLUGS.get(exc.status_code, "http-error")
    detail = _HTTP_DETAILS.get(exc.status_code, HTTPStatus(exc.status_code).phrase)
    headers = dict(exc.headers or {})
    if exc.status_code == 400 and body_rule(request.method, request.url.path).multipart:
        # Starlette's multipart parser refused the body (too many files or fields, a part too large,
        # bad framing); its message says which, and names nothing of the content.
        slug, detail = "malformed-multipart", f"The multipart body could not be read: {exc.detail}"
    if exc.status_code == 405:
        # One answer wherever the 405 comes from (the $default function in a deployment, Starlette's
        # router in the local stack, which only knows the first route it matched): every method served.
        headers["Allow"] = ", ".join(allowed_methods(request.url.path)) or headers.get("Allow", "")
    return problem_response(request, exc.status_code, slug, detail, headers=headers)


def _field_error(error: Mapping[str, Any]) -> FieldError:
    location = [str(part) for part in error.get("loc", ())]
    where, path = (location[0], location[1:]) if location else ("body", [])
    escaped = "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in path)
    pointer = escaped if where == "body" else f"#/{where}{escaped}"
    return FieldError(pointer or "/", str(error.get("msg", "is invalid")))


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(InfergateError, domain_error_handler)
    app.add_exception_handler(InputTooLargeError, domain_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)


def oip_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of the error responses of an Open Inference Protocol route."""
    return {status: _documented(status, OipError) for status in _with_limits(statuses)}


def openai_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of the error responses of an OpenAI-compatible route (422s are answered 400)."""
    shown = sorted({400 if status == 422 else status for status in _with_limits(statuses)})
    return {status: _documented(status, OpenAiError) for status in shown}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of the problem responses a route can give (``application/problem+json`` only:
    ``shared.api.openapi`` moves the model's schema there)."""
    return {
        status: {**_documented(status, Problem), "content": {PROBLEM_MEDIA_TYPE: {}}}
        for status in _with_limits(statuses)
    }


_RETRY_AFTER = {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"description": "`Bearer`: send an API key.", "schema": {"type": "string"}}},
    429: {"Retry-After": _RETRY_AFTER},
    503: {"Retry-After": _RETRY_AFTER},
}
_MEANINGS = {
    400: "Bad request: an invalid parameter, or a body that cannot be read (see the error's detail).",
    401: "No API key, or an unknown, revoked or malformed one.",
    403: "The key lacks the scope this route needs.",
    429: "Over the key's or the tenant's rate limit.",
}


def _documented(status: int, model: type[BaseModel]) -> dict[str, Any]:
    documented: dict[str, Any] = {"model": model, "description": _MEANINGS.get(status, HTTPStatus(status).phrase)}
    if status in _HEADERS:
        documented["headers"] = _HEADERS[status]
    return documented


def _with_limits(statuses: tuple[int, ...]) -> tuple[int, ...]:
    """Every authenticated route (it can answer 401) is rate limited too (429)."""
    return (*statuses, 429) if 401 in statuses and 429 not in statuses else statuses
