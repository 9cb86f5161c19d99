"""Pure ASGI middleware: request id (correlation id), body size and media type, and the last-resort 500."""

import json
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.api.bodies import MAX_HEADER_BYTES, MULTIPART, BodyRule, body_rule, too_large_detail
from shared.api.problems import error_document, is_oip_path
from shared.kernel.observability import logger, set_correlation_id

REQUEST_ID_HEADER = "x-request-id"


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        set_correlation_id(request_id)
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [h for h in message.get("headers", []) if h[0].lower() != REQUEST_ID_HEADER.encode()]
                message["headers"] = [*headers, (REQUEST_ID_HEADER.encode(), request_id.encode())]
            await send(message)

        if _request_head_size(scope) > MAX_HEADER_BYTES:
            detail = f"The request line and headers exceed {MAX_HEADER_BYTES} bytes."
            await _send_problem(send_with_id, scope, 431, "headers-too-large", detail)
            return
        rule = body_rule(scope.get("method", ""), scope.get("path", ""))
        declared = _content_length(scope)
        body = None if declared is not None and declared > rule.max_bytes else await _read_body(receive, rule.max_bytes)
        if body is None:  # refused by its Content-Length before reading, or while reading past the limit
            await _send_problem(send_with_id, scope, 413, "payload-too-large", too_large_detail(rule))
            return
        if body and not _acceptable_media_type(scope, rule):
            detail = (
                "The request body must be multipart/form-data."
                if rule.multipart
                else "The request body must be JSON: send it with Content-Type: application/json."
            )
            await _send_problem(send_with_id, scope, 415, "unsupported-media-type", detail)
            return
        try:
            await self.app(scope, _replay(body), send_with_id)
        except Exception:  # noqa: BLE001 - the last resort: log it, answer 500, never leak it
            logger.exception("unhandled error", extra={"path": scope.get("path")})
            if not started:
                detail = f"An unexpected error occurred. Quote request id {request_id} when reporting it."
                await _send_problem(send_with_id, scope, 500, "internal-error", detail)


def _request_id(scope: Scope) -> str:
    event: Any = scope.get("aws.event") or {}
    context = event.get("requestContext") if isinstance(event, dict) else None
    request_id = context.get("requestId") if isinstance(context, dict) else None
    return str(request_id) if request_id else uuid.uuid4().hex


def _request_head_size(scope: Scope) -> int:
    line = len(scope.get("method", "")) + len(scope.get("raw_path") or scope.get("path", "").encode())
    line += len(scope.get("query_string", b""))
    return line + sum(len(name) + len(value) + 4 for name, value in scope.get("headers", []))  # ": " and CRLF


def _header(scope: Scope, wanted: bytes) -> bytes | None:
    return next((value for name, value in scope.get("headers", []) if name.lower() == wanted), None)


def _content_length(scope: Scope) -> int | None:
    """The declared body size, or None when there is none (chunked) or it is no number."""
    raw = _header(scope, b"content-length")
    return int(raw) if raw is not None and raw.strip().isdigit() else None


def _acceptable_media_type(scope: Scope, rule: BodyRule) -> bool:
    """Bodies of the /v1 API are JSON, declared as such, but on the multipart routes, which take only
    multipart/form-data; anything else is refused, not guessed at.

    The Open Inference Protocol's routes take JSON or Triton's binary tensors
    (``Inference-Header-Content-Length``, any or no Content-Type); its codec judges those bodies.
    """
    if is_oip_path(scope.get("path", "")):
        return True
    media_type = (_header(scope, b"content-type") or b"").decode("latin-1").split(";", 1)[0].strip().lower()
    if rule.multipart:
        return media_type == MULTIPART
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """Return the whole body, or None when it exceeds ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _send_problem(send: Send, scope: Scope, status: int, slug: str, detail: str) -> None:
    dialect = bool(scope.get("state", {}).get("openai_dialect"))
    status, document, media_type = error_document(scope.get("path", ""), status, slug, detail, openai_dialect=dialect)
    body = json.dumps(document).encode()
    headers = [(b"content-type", media_type.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
