"""Builders of the events Lambda receives: API Gateway HTTP API (payload v2) and SQS."""

import base64
import json
import uuid
from typing import Any


def http_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    raw_body: bytes | None = None,
    headers: dict[str, str] | None = None,
    query: str = "",
    route_key: str | None = None,
    path_parameters: dict[str, str] | None = None,
    jwt_claims: dict[str, str] | None = None,
) -> dict[str, Any]:
    """``jwt_claims``: the request came through a route with a JWT authorizer, which verified a token with
    these claims (strings, as API Gateway passes them)."""
    encoded = raw_body if raw_body is not None else (json.dumps(body).encode() if body is not None else None)
    all_headers = {"host": "api.example.com", "x-forwarded-proto": "https", "user-agent": "pytest"}
    if encoded is not None:
        all_headers["content-type"] = "application/json"
        all_headers["content-length"] = str(len(encoded))
    all_headers.update({k.lower(): v for k, v in (headers or {}).items()})
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key or f"{method} {path}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": all_headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "api.example.com",
            "domainPrefix": "api",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "pytest",
            },
            "requestId": f"req-{uuid.uuid4().hex[:12]}",
            "routeKey": route_key or f"{method} {path}",
            "stage": "$default",
            "time": "21/Nov/2026:18:03:00 +0000",
            "timeEpoch": 1795284180000,
        },
        "isBase64Encoded": False,
    }
    if encoded is not None:
        event["body"] = base64.b64encode(encoded).decode()
        event["isBase64Encoded"] = True
    if path_parameters:
        event["pathParameters"] = path_parameters
    if jwt_claims is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": jwt_claims, "scopes": None}}
    return event


def bearer(secret: str) -> dict[str, str]:
    return {"authorization": f"Bearer {secret}"}


def response_json(response: dict[str, Any]) -> Any:
    body = response.get("body") or ""
    if response.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    return json.loads(body) if body else None
