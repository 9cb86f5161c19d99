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
    ("POST", "/v1/models/{name}/versions"),
    ("POST", "/v1/models/{name}/predict"),
    ("POST", "/v1/uploads"),
    ("POST", "/v1/predictions"),
    ("GET", "/v1/predictions"),
    ("GET", "/v1/predictions/{prediction_id}"),
    ("POST", "/v1/predictions/{prediction_id}/cancel"),
    ("GET", "/v1/predictions/{prediction_id}/webhook-deliveries"),
    ("POST", "/v1/batches"),
    ("GET", "/v1/batches"),
    ("GET", "/v1/batches/{batch_id}"),
    ("POST", "/v1/batches/{batch_id}/cancel"),
    ("GET", "/v1/webhooks/secret"),
    ("POST", "/v1/webhooks/secret/rotate"),
    ("GET", "/v2/health/live"),
    ("GET", "/v2/health/ready"),
    ("GET", "/v2"),
    ("GET", "/v2/models/{model_name}"),
    ("GET", "/v2/models/{model_name}/versions/{model_version}"),
    ("GET", "/v2/models/{model_name}/ready"),
    ("GET", "/v2/models/{model_name}/versions/{model_version}/ready"),
    ("POST", "/v2/models/{model_name}/infer"),
    ("POST", "/v2/models/{model_name}/versions/{model_version}/infer"),
)


@cache
def _patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((method, re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", path) + "$")) for method, path in KNOWN_ROUTES)


def allowed_methods(path: str) -> list[str]:
    """Methods served at ``path`` (empty: no such route)."""
    return sorted({method for method, pattern in _patterns() if pattern.match(path)})
