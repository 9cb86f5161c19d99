"""The OpenAPI document's shape, in one place: operation ids, tags, servers, security, error media types.

FastAPI generates the document from the routers; :class:`DocumentedApp` corrects what it cannot be told
per route: a problem response is answered as ``application/problem+json`` only (FastAPI files a response
model under the route's media type, ``application/json``); its default 422 ``HTTPValidationError`` is
never answered (``shared.api.problems`` answers a bad parameter 400 and a bad body 422 as a problem, or
in the route's own dialect, and each route lists those statuses); every operation can answer the
middleware's 431 (an oversized request head); and an operation without authentication says so
(``security: []``).
"""

from enum import StrEnum
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from shared.api.bodies import MAX_HEADER_BYTES
from shared.api.openai_errors import is_openai_path
from shared.api.problems import PROBLEM_MEDIA_TYPE, is_oip_path
from shared.kernel.container import per_container

PROBLEM_REF = "#/components/schemas/Problem"
_UNANSWERED_SCHEMAS = ("HTTPValidationError", "ValidationError")


class Tag(StrEnum):
    """One tag per resource; every operation has exactly one (its router's)."""

    PREDICTIONS = "Predictions"
    MODELS = "Models"
    BATCHES = "Batches"
    UPLOADS = "Uploads"
    FILES = "Files"
    EMBEDDINGS = "Embeddings"
    KEYS = "Keys"
    WEBHOOKS = "Webhooks"
    OPEN_INFERENCE_PROTOCOL = "Open Inference Protocol"
    HEALTH = "Health"
    DOCUMENTATION = "Documentation"


TAG_DESCRIPTIONS: dict[Tag, str] = {
    Tag.PREDICTIONS: "Asynchronous predictions: create (optionally waiting with `Prefer: wait`), get, list and "
    "cancel. Each runs one model on one input; its webhook, if any, is told when it starts and ends.",
    Tag.MODELS: "The model registry: the shared built-in models and the tenant's own versioned ONNX models "
    "(registered from an upload), and synchronous prediction.",
    Tag.BATCHES: "Batches of predictions from a JSONL file, in Infergate's or OpenAI's form (OpenAI's Batch API "
    "for `/v1/embeddings`). Errors are problem documents that also carry OpenAI's `error` member.",
    Tag.UPLOADS: "Uploads: presigned S3 PUTs of model artifacts and batch files, and OpenAI's Uploads API (parts, "
    "complete, cancel; errors in OpenAI's shape there).",
    Tag.FILES: "OpenAI-compatible Files API: batch input files and batch output files. Errors are OpenAI's "
    '`{"error": {"message", "type", "param", "code"}}`.',
    Tag.EMBEDDINGS: "OpenAI-compatible embeddings: `POST /v1/embeddings` as OpenAI's SDKs call it, with OpenAI's "
    "error shape.",
    Tag.KEYS: "API keys of the caller's tenant (admin scope): create, list and revoke. Keys are `igk_...` bearer "
    "tokens with the `predict` or `admin` scope.",
    Tag.WEBHOOKS: "The tenant's Standard Webhooks signing secret and each prediction's delivery attempts. The "
    "events themselves are described under `webhooks`.",
    Tag.OPEN_INFERENCE_PROTOCOL: "The Open Inference Protocol (KServe V2) under `/v2`: health, metadata and "
    'infer. Errors are `{"error": "..."}`.',
    Tag.HEALTH: "Liveness and the deployed version; no authentication.",
    Tag.DOCUMENTATION: "This OpenAPI document and its Swagger UI; no authentication.",
}
OPENAPI_TAGS: list[dict[str, Any]] = [{"name": tag.value, "description": TAG_DESCRIPTIONS[tag]} for tag in Tag]

# The HTTP API has only the `$default` stage, served at the root of its URL (the template's `ApiUrl`).
SERVERS: list[dict[str, Any]] = [
    {"url": "/", "description": "Where this document is served from (Swagger UI's `Try it out` calls it)"},
    {
        "url": "https://{api_id}.execute-api.{region}.amazonaws.com",
        "description": "A deployed stack (its `ApiUrl` output)",
        "variables": {
            "api_id": {"default": "api_id", "description": "The HTTP API's id."},
            "region": {"default": "us-east-1", "description": "The stack's AWS region."},
        },
    },
    {
        "url": "https://{jwt_api_id}.execute-api.{region}.amazonaws.com",
        "description": "A deployed stack's API for JWT callers (its `JwtApiUrl` output, when `JwtIssuer` is set): "
        "the same routes, each requiring the issuer's access token (`Jwt`)",
        "variables": {
            "jwt_api_id": {"default": "jwt_api_id", "description": "The JWT callers' HTTP API's id."},
            "region": {"default": "us-east-1", "description": "The stack's AWS region."},
        },
    },
    {"url": "http://localhost:8000", "description": "The local stack (`make dev`)"},
]
# The JWT callers' credential: API Gateway's authorizer checks it before the function runs, on the second API.
JWT_SCHEME = "Jwt"
_JWT_SECURITY_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT",
    "description": "An access token of the deployment's issuer (`JwtIssuer`), on the JWT callers' API only: "
    "its tenant claim names the tenant, its scopes claim grants `predict` or `admin` (the `Jwt*` template "
    "parameters); without them, 403.",
}


def operation_id(route: APIRoute) -> str:
    """camelCase of the route function's name: ``create_prediction`` -> ``createPrediction``."""
    first, *rest = route.name.split("_")
    return first + "".join(word.capitalize() for word in rest)


class DocumentedApp(FastAPI):
    """FastAPI whose OpenAPI document says what the service answers (see the module docstring)."""

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            # Documentation only, so imported only when a document is made, never on a function's cold start.
            from shared.api.webhook_events import webhooks

            self.webhooks.include_router(webhooks)
            self.openapi_schema = corrected(super().openapi())
        return self.openapi_schema


def corrected(document: dict[str, Any]) -> dict[str, Any]:
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            _correct_operation(operation)
            _add_answers_of_every_route(path, operation["responses"])
    for event in document.get("webhooks", {}).values():
        for operation in event.values():
            operation["responses"].pop("422", None)  # a receiver's answer, not ours
    document.setdefault("components", {}).setdefault("securitySchemes", {})[JWT_SCHEME] = _JWT_SECURITY_SCHEME
    schemas = document.get("components", {}).get("schemas", {})
    for name in _UNANSWERED_SCHEMAS:
        schemas.pop(name, None)
    return document


_REQUEST_ID = {
    "description": "The request's correlation id: every log line it caused carries it. Quote it when reporting.",
    "schema": {"type": "string"},
}
_RETRY_AFTER = {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}


def _add_answers_of_every_route(path: str, responses: dict[str, Any]) -> None:
    """What the middleware and the auth dependency can answer on any route, in the route's error shape
    (``shared.api.problems.error_document``), and ``X-Request-Id`` on every answer."""
    error = _error_content(path)
    responses["431"] = {
        "description": f"The request line and headers exceed {MAX_HEADER_BYTES:,} bytes.",
        "content": error,
    }
    responses.setdefault("413", {"description": "The request body is over the route's limit.", "content": error})
    responses.setdefault(
        "415",
        {
            "description": "A request body that is not JSON (multipart/form-data on the multipart routes).",
            "content": error,
        },
    )
    if "401" in responses:  # the key's lookup and the rate limits read the table: throttled, it is a 503
        unavailable = {"description": "A transient fault (a throttled table or queue): try again.", "content": error}
        responses.setdefault("503", {**unavailable, "headers": {"Retry-After": _RETRY_AFTER}})
    responses["500"] = {
        "description": "An unexpected error; quote the `X-Request-Id` when reporting it.",
        "content": error,
    }
    for response in responses.values():
        response.setdefault("headers", {})["X-Request-Id"] = _REQUEST_ID


def _error_content(path: str) -> dict[str, Any]:
    if is_oip_path(path):
        return {"application/json": {"schema": {"$ref": "#/components/schemas/OipError"}}}
    if is_openai_path(path):
        return {"application/json": {"schema": {"$ref": "#/components/schemas/OpenAiError"}}}
    return {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}}


def _correct_operation(operation: dict[str, Any]) -> None:
    security = operation.setdefault("security", [])
    if security:  # an API key here, or a token on the JWT callers' API
        security.append({JWT_SCHEME: []})
    responses = operation["responses"]
    for status, response in list(responses.items()):
        content = response.get("content", {})
        schema = content.get("application/json", {}).get("schema", {})
        if schema.get("$ref", "").endswith("/HTTPValidationError"):
            del responses[status]
        elif PROBLEM_MEDIA_TYPE in content:
            response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}}


# The committed document sits next to the `shared` package: at the repository's root here, and at
# /opt/python/ in SharedLayer, whose build copies it there (layers/Makefile).
DOCUMENT_FILE = Path(__file__).resolve().parents[2] / "openapi.json"


@per_container
def committed_document() -> bytes:
    """The committed ``openapi.json``, read once per container."""
    return DOCUMENT_FILE.read_bytes()
