"""What OpenAI's SDK puts on the wire: its requests captured (no network), and multipart bodies built by
hand for what the SDK would never send."""

import hashlib
from collections.abc import Callable
from typing import Any

import httpx2
from openai import OpenAI

# What the capturing transport answers: enough for the SDK to parse a file or an upload part.
_ANSWER = {
    "id": "file_01JD5YB4W3ZV0B4S8FZ7Q6N9XK",
    "object": "file",
    "bytes": 1,
    "created_at": 1,
    "filename": "x",
    "purpose": "batch",
    "status": "processed",
    "upload_id": "upl_01JD5YB4W3ZV0B4S8FZ7Q6N9XK",
}


def sdk_request(send: Callable[[OpenAI], Any]) -> httpx2.Request:
    """The request the SDK sends for ``send(client)``, captured by a mock transport."""
    captured: list[httpx2.Request] = []

    def answer(request: httpx2.Request) -> httpx2.Response:
        request.read()
        captured.append(request)
        return httpx2.Response(200, json=_ANSWER)

    client = OpenAI(
        api_key="igk_capture",
        base_url="https://api.example.com/v1",
        http_client=httpx2.Client(transport=httpx2.MockTransport(answer)),
        max_retries=0,
    )
    send(client)
    return captured[0]


def files_create_framing(filename: str) -> int:
    """The bytes ``files.create(file=(filename, data), purpose="batch")`` adds to ``data``: its own
    multipart framing, measured on what it sends (the boundary is random but of fixed length)."""
    body = sdk_request(lambda c: c.files.create(file=(filename, b"x"), purpose="batch")).content
    return len(body) - 1


def multipart(fields: list[tuple[str, str | tuple[str, bytes]]], boundary: str = "b0undary") -> tuple[bytes, str]:
    """A multipart/form-data body: ``(name, value)`` fields and ``(name, (filename, data))`` files."""
    out = bytearray()
    for name, value in fields:
        out += f"--{boundary}\r\n".encode()
        if isinstance(value, tuple):
            filename, data = value
            out += f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'.encode()
            out += b"Content-Type: application/octet-stream\r\n\r\n" + data + b"\r\n"
        else:
            out += f'Content-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()
