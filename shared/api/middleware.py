"""Pure ASGI middleware: request id (correlation id), body size and media type, and the last-resort 500."""

import json
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.api.problems import error_document, is_oip_path
from shared.kernel.observability import logger, set_correlation_id

REQUEST_ID_HEADER = "x-request-id"
MAX_BODY_BYTES = 1024 * 1024
# API Gateway's HTTP API quota for the request line and headers together: a request over it never
# reaches a function. Checked here too, so every other way of serving the app (the local stack) agrees.
MAX_HEADER_BYTES = 10 * 1024


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

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
        body = await _read_body(receive, self.max_body_bytes)
        if body is None:
            await _send_problem(send_with_id, scope, 413, "payload-too-large", "The request body is too large.")
            return
        if body and not _acceptable_media_type(scope):
            detail = "The request body must be JSON: send it with Content-Type: application/json."
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


def _acceptable_media_type(scope: Scope) -> bool:
    """Bodies of the /v1 API are JSON, declared as such; anything else is refused, not guessed at.

    The Open Inference Protocol's routes take JSON or Triton's binary tensors
    (``Inference-Header-Content-Length``, any or no Content-Type); its codec judges those bodies.
    """
    if is_oip_path(scope.get("path", "")):
        return True
    raw = next((value for name, value in scope.get("headers", []) if name.lower() == b"content-type"), b"")
    media_type = raw.decode("latin-1").split(";", 1)[0].strip().lower()
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
    status, document, media_type = error_document(scope.get("path", ""), status, slug, detail)
    body = json.dumps(document).encode()
    headers = [(b"content-type", media_type.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
