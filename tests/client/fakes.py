"""A scripted API for the client's unit tests: answers queued per route, every request recorded (no sockets)."""

import json
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any

import httpx
from infergate import AsyncInfergate, Infergate

Answer = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]
BASE_URL = "http://api.test"
API_KEY = "igk_unit0000000000000000000000"


def problem(status: int, detail: str = "Refused.", **extra: Any) -> httpx.Response:
    body = {
        "type": f"urn:infergate:problem:test-{status}",
        "title": "Title",
        "status": status,
        "detail": detail,
        "instance": "/v1/x",
    }
    headers = {"Content-Type": "application/problem+json", "X-Request-Id": f"req-{status}"}
    headers |= extra.pop("headers", {})
    return httpx.Response(status, content=json.dumps(body | extra), headers=headers)


def prediction(status: str = "succeeded", id: str = "pred_1", **extra: Any) -> dict[str, Any]:
    return {
        "id": id,
        "model": "sentiment",
        "version": 1,
        "status": status,
        "input": {"text": "hi"},
        "output": {"label": "positive"} if status == "succeeded" else None,
        "error": None,
        "metadata": {},
        "webhook": None,
        "webhook_events_filter": ["completed"],
        "created_at": "2026-01-01T00:00:00Z",
        "started_at": None,
        "completed_at": None,
        "metrics": {"predict_time": None, "total_time": None},
        "urls": {"get": f"{BASE_URL}/v1/predictions/{id}", "cancel": f"{BASE_URL}/v1/predictions/{id}/cancel"},
    } | extra


def batch(status: str = "completed", id: str = "bat_1", **extra: Any) -> dict[str, Any]:
    return {
        "id": id,
        "object": "batch",
        "status": status,
        "model": "sentiment",
        "version": 1,
        "request_counts": {"total": 2, "completed": 2, "failed": 0},
        "errors": None,
        "metadata": {},
        "created_at": 1,
        "output_url": None,
        "errors_url": None,
    } | extra


class FakeApi:
    """Answers each ``(method, path)`` (or ``(method, full URL)``) from its queue; the last answer repeats."""

    def __init__(self) -> None:
        self.answers: dict[tuple[str, str], deque[Answer]] = defaultdict(deque)
        self.requests: list[httpx.Request] = []

    def on(self, method: str, where: str, *answers: Answer) -> "FakeApi":
        self.answers[(method, where)].extend(answers)
        return self

    def sent(self, method: str, where: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and where in (r.url.path, _bare(r.url))]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        key = (request.method, _bare(request.url))
        queue = self.answers.get(key) or self.answers.get((request.method, request.url.path))
        if not queue:
            return problem(404, f"no answer scripted for {request.method} {request.url}")
        answer = queue.popleft() if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            return answer
        return answer(request)

    def client(self, **options: Any) -> Infergate:
        return Infergate(BASE_URL, API_KEY, http_client=httpx.Client(transport=httpx.MockTransport(self)), **options)

    def async_client(self, **options: Any) -> AsyncInfergate:
        transport = httpx.MockTransport(self)
        return AsyncInfergate(BASE_URL, API_KEY, http_client=httpx.AsyncClient(transport=transport), **options)


def ok(body: Any, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def _bare(url: httpx.URL) -> str:
    """The URL without its query (a presigned URL's signature)."""
    return str(url.copy_with(query=None))
