"""The per-route body rules and the middleware that applies them: the multipart limit is derived from
Lambda's payload quota, refused by Content-Length before any byte is read, and while reading without one."""

import base64
import json
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

from shared.api.bodies import (
    ENVELOPE_RESERVE_BYTES,
    LAMBDA_PAYLOAD_BYTES,
    MAX_JSON_BODY_BYTES,
    MAX_MULTIPART_BODY_BYTES,
    body_rule,
)
from shared.api.middleware import RequestContextMiddleware


def test_the_multipart_limit_is_the_largest_body_whose_base64_fits_beside_the_envelope() -> None:
    encoded = len(base64.b64encode(b"x" * MAX_MULTIPART_BODY_BYTES))
    one_block_more = len(base64.b64encode(b"x" * (MAX_MULTIPART_BODY_BYTES + 3)))

    assert MAX_MULTIPART_BODY_BYTES == 4_669_440
    assert encoded + ENVELOPE_RESERVE_BYTES == LAMBDA_PAYLOAD_BYTES
    assert one_block_more + ENVELOPE_RESERVE_BYTES > LAMBDA_PAYLOAD_BYTES


@pytest.mark.parametrize(
    ("method", "path", "multipart"),
    [
        ("POST", "/v1/files", True),
        ("POST", "/v1/uploads/upl_1/parts", True),
        ("GET", "/v1/files", False),
        ("POST", "/v1/uploads", False),
        ("POST", "/v1/uploads/upl_1/complete", False),
        ("POST", "/v1/files/x", False),
        ("POST", "/v1/predictions", False),
    ],
)
def test_only_the_multipart_routes_take_multipart_bodies(method: str, path: str, multipart: bool) -> None:
    rule = body_rule(method, path)

    assert rule.multipart is multipart
    assert rule.max_bytes == (MAX_MULTIPART_BODY_BYTES if multipart else MAX_JSON_BODY_BYTES)


class _Sink:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.app_called = False

    async def send(self, message: Message) -> None:
        self.messages.append(message)

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.app_called = True
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    @property
    def status(self) -> int:
        return int(self.messages[0]["status"])

    @property
    def body(self) -> Any:
        return json.loads(self.messages[1]["body"])


def _scope(path: str, headers: dict[str, str]) -> Scope:
    return {
        "type": "http",
        "method": "POST",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
    }


@pytest.mark.anyio
async def test_a_declared_length_over_the_limit_is_refused_before_a_byte_is_read() -> None:
    sink = _Sink()

    async def receive() -> Message:
        raise AssertionError("the body was read")

    headers = {"content-type": "multipart/form-data; boundary=x", "content-length": str(MAX_MULTIPART_BODY_BYTES + 1)}
    await RequestContextMiddleware(sink.app)(_scope("/v1/files", headers), receive, sink.send)

    assert (sink.status, sink.app_called) == (413, False)
    assert "upload_file_chunked" in sink.body["error"]["message"]


@pytest.mark.anyio
async def test_without_a_declared_length_the_body_is_refused_once_reading_passes_the_limit() -> None:
    sink = _Sink()
    reads = 0
    chunk = b"x" * (1024 * 1024)

    async def receive() -> Message:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": chunk, "more_body": True}  # a client that never stops

    scope = _scope("/v1/uploads/upl_1/parts", {"content-type": "multipart/form-data; boundary=x"})
    await RequestContextMiddleware(sink.app)(scope, receive, sink.send)

    assert (sink.status, sink.app_called) == (413, False)
    assert reads == MAX_MULTIPART_BODY_BYTES // len(chunk) + 1
    assert sink.body["error"]["code"] is None


@pytest.mark.anyio
async def test_a_json_route_keeps_its_limit_of_one_mib() -> None:
    sink = _Sink()

    async def receive() -> Message:
        return {"type": "http.request", "body": b"x" * (MAX_JSON_BODY_BYTES + 1), "more_body": False}

    scope = _scope("/v1/predictions", {"content-type": "application/json"})
    await RequestContextMiddleware(sink.app)(scope, receive, sink.send)

    assert (sink.status, sink.body["detail"]) == (413, "The request body is too large.")
