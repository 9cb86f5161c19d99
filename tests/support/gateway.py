"""API Gateway's routing, from template.yaml: which function a (method, path) reaches."""

from typing import Any

from tests.support.events import http_event
from tools.lambda_runtime import invoke_function
from tools.local_api import route_of
from tools.template import load_template


def route(method: str, path: str) -> tuple[str, str]:
    """(logical id, route key) for a request, falling back to the $default route like API Gateway."""
    spec, route_key = route_of(load_template(), method, path)
    return spec.logical_id, route_key


def call(method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    """Send one request through the function API Gateway would pick, as a payload v2 event."""
    raw_path, _, query = path.partition("?")
    logical_id, route_key = route(method, raw_path)
    response: dict[str, Any] = invoke_function(
        logical_id, http_event(method, raw_path, query=query, route_key=route_key, **kwargs)
    )
    return response
