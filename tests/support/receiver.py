"""A real webhook receiver on 127.0.0.1 that records every request and answers from a script.

It answers GETs too (with ``get_body``), so a test can tell whether the service ever fetched a URL
it was handed, e.g. a JSON Schema ``$ref``."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from standardwebhooks.webhooks import Webhook

from tests.support.documented_webhooks import check_documented
from tests.support.loopback import QuietHandler, base_url, serving


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: str


@dataclass
class Receiver:
    url: str
    answers: list[int] = field(default_factory=list)  # status per request; the last one repeats
    extra_headers: dict[str, str] = field(default_factory=dict)
    get_body: bytes = b"{}"
    requests: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def next_status(self) -> int:
        with self._lock:
            index = min(len(self.requests), len(self.answers) - 1)
            return self.answers[index] if self.answers else 200

    def verified(self, secret: str) -> list[dict[str, Any]]:
        """Every request, checked with the reference Standard Webhooks library and against its event's
        schema in openapi.json (raises if one fails)."""
        verifier = Webhook(secret)
        payloads: list[dict[str, Any]] = [verifier.verify(r.body, r.headers) for r in self.requests]
        for payload in payloads:
            check_documented(payload)
        return payloads


@contextmanager
def receiver(
    answers: list[int] | None = None, extra_headers: dict[str, str] | None = None, port: int = 0
) -> Iterator[Receiver]:
    state = Receiver(url="", answers=answers or [200], extra_headers=extra_headers or {})

    class Handler(QuietHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length).decode("utf-8")
            status = state.next_status()
            with state._lock:
                state.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(status)
            for name, value in state.extra_headers.items():
                self.send_header(name, value)
            self.send_header("content-length", "0")
            self.end_headers()

        def do_GET(self) -> None:  # noqa: N802 - http.server's hook name
            with state._lock:
                state.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, ""))
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(state.get_body)))
            self.end_headers()
            self.wfile.write(state.get_body)

    with serving(Handler, port) as server:
        state.url = f"{base_url(server)}/hooks"
        yield state
