"""Which methods the HTTP API serves at a path. The catch-all function uses it to tell 404 from 405.

The route table itself, ``KNOWN_ROUTES``, is generated from template.yaml into ``known_routes.py`` by
``make openapi``; a contract test fails when it is stale, and another keeps the routers equal to it.
"""

import re
from functools import cache

from shared.api.known_routes import KNOWN_ROUTES


@cache
def _patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((method, re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", path) + "$")) for method, path in KNOWN_ROUTES)


def allowed_methods(path: str) -> list[str]:
    """Methods served at ``path`` (empty: no such route)."""
    return sorted({method for method, pattern in _patterns() if pattern.match(path)})
