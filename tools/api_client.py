"""The HTTP API as an operator command uses it: a client for a base URL and an API key, answers checked
against the status each call expects, and an error that carries the service's problem detail (RFC 9457)."""

import json
from typing import Any

import httpx

API_TIMEOUT = httpx.Timeout(60.0, connect=10.0)  # registration loads and runs the model: up to the API's 29 s
UPLOAD_TIMEOUT = httpx.Timeout(600.0, connect=10.0)  # a 100 MiB PUT over a slow line
_SHOWN_BODY = 500


class ApiError(Exception):
    """A call the service (or the presigned storage URL) answered with another status than expected."""

    def __init__(self, call: str, status: int, problem: dict[str, Any] | None, body: str) -> None:
        self.call = call
        self.status = status
        self.problem = problem
        self.body = body
        why = (problem.get("detail") or problem.get("title")) if problem is not None else body[:_SHOWN_BODY]
        super().__init__(f"{call}: HTTP {status}" + (f": {why}" if why else ""))

    def shown(self) -> str:
        """The message, then the whole problem document (its ``errors`` name each field)."""
        if self.problem is None:
            return str(self)
        return f"{self}\n{json.dumps(self.problem, indent=2, ensure_ascii=False)}"


def api_client(base_url: str, api_key: str) -> httpx.Client:
    return httpx.Client(
        base_url=base_url.rstrip("/"), headers={"Authorization": f"Bearer {api_key}"}, timeout=API_TIMEOUT
    )


def call(client: httpx.Client, method: str, path: str, body: dict[str, Any], expected: int) -> dict[str, Any]:
    """The JSON object the service answers, or ``ApiError`` with its problem detail."""
    response = client.request(method, path, json=body)
    return _checked(response, f"{method} {path}", expected)


def upload(client: httpx.Client, purpose: str, content_type: str, data: bytes) -> str:
    """Create an upload and PUT ``data`` to its presigned URL with exactly the headers it names; its id."""
    created = call(
        client, "POST", "/v1/uploads", {"purpose": purpose, "content_type": content_type, "size": len(data)}, 201
    )
    # The presigned URL carries its own authorisation: the API key must not go with it.
    put = httpx.put(created["url"], content=data, headers=created["headers"], timeout=UPLOAD_TIMEOUT)
    _checked(put, "PUT to the upload URL", 200, json_body=False)
    return str(created["id"])


def _checked(response: httpx.Response, what: str, expected: int, json_body: bool = True) -> dict[str, Any]:
    if response.status_code != expected:
        raise ApiError(what, response.status_code, _problem(response), response.text)
    if not json_body:
        return {}
    answer = response.json()
    if not isinstance(answer, dict):
        raise ApiError(what, response.status_code, None, "the answer is not a JSON object")
    return answer


def _problem(response: httpx.Response) -> dict[str, Any] | None:
    if not response.headers.get("content-type", "").startswith(("application/problem+json", "application/json")):
        return None
    try:
        found = response.json()
    except ValueError:
        return None
    return found if isinstance(found, dict) else None
