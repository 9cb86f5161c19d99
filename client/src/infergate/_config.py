"""Where the API is and which key to use: given, or from ``INFERGATE_BASE_URL`` / ``INFERGATE_API_KEY``."""

import os
from dataclasses import dataclass, field

import httpx

from infergate._version import __version__
from infergate.errors import ConfigurationError

BASE_URL_VARIABLE = "INFERGATE_BASE_URL"
API_KEY_VARIABLE = "INFERGATE_API_KEY"
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
DEFAULT_MAX_RETRIES = 2
USER_AGENT = f"infergate-python/{__version__}"


@dataclass(frozen=True)
class Settings:
    """What every request needs to know of the client."""

    base_url: str
    api_key: str = field(repr=False)  # never in a repr, a log line or a traceback's locals
    timeout: httpx.Timeout
    max_retries: int


def settings(
    base_url: str | None, api_key: str | None, timeout: float | httpx.Timeout | None, max_retries: int
) -> Settings:
    """The client's settings; a ``ConfigurationError`` naming the variable when one is missing."""
    url = base_url or os.environ.get(BASE_URL_VARIABLE)
    if not url:
        raise ConfigurationError(f"no base URL: pass base_url=... or set {BASE_URL_VARIABLE}")
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(f"the base URL must start with http:// or https://, not {url!r}")
    key = (api_key or os.environ.get(API_KEY_VARIABLE) or "").strip()
    if not key:
        raise ConfigurationError(f"no API key: pass api_key=... or set {API_KEY_VARIABLE}")
    if not (key.isascii() and key.isprintable()) or any(c.isspace() for c in key):
        # Not quoted: it is a secret. It could not go in a header anyway (httpx would refuse it and echo it).
        raise ConfigurationError("the API key must be printable ASCII without spaces (is it pasted whole?)")
    if max_retries < 0:
        raise ConfigurationError("max_retries must be 0 or more")
    if timeout is None:
        chosen = DEFAULT_TIMEOUT
    elif isinstance(timeout, httpx.Timeout):
        chosen = timeout
    else:
        chosen = httpx.Timeout(timeout, connect=min(timeout, DEFAULT_TIMEOUT.connect or timeout))
    return Settings(base_url=url.rstrip("/"), api_key=key, timeout=chosen, max_retries=max_retries)
