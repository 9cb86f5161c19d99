"""Every (method, path) the HTTP API serves. The catch-all function uses it to tell 404 from 405.

A contract test keeps this table, ``template.yaml`` and the routers identical.
"""

import re
from functools import cache

KNOWN_ROUTES: tuple[tuple[str, str], ...] = (
    ("GET", "/v1/health"),
    ("POST", "/v1/keys"),
    ("GET", "/v1/keys"),
    ("DELETE", "/v1/keys/{key_id}"),
    ("GET", "/v1/models"),
    ("GET", "/v1/models/{name}"),
    ("POST", "/v1/predictions"),
    ("GET", "/v1/predictions"),
    ("GET", "/v1/predictions/{prediction_id}"),
    ("POST", "/v1/predictions/{prediction_id}/cancel"),
    ("GET", "/v1/predictions/{prediction_id}/webhook-deliveries"),
    ("GET", "/v1/webhooks/secret"),
    ("POST", "/v1/webhooks/secret/rotate"),
)


@cache
def _patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((method, re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", path) + "$")) for method, path in KNOWN_ROUTES)


def allowed_methods(path: str) -> list[str]:
    """Methods served at ``path`` (empty: no such route)."""
    return sorted({method for method, pattern in _patterns() if pattern.match(path)})
