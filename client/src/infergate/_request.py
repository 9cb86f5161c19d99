"""One HTTP request as the client describes it, before any I/O: URL, headers, body, and whether it may be replayed."""

import json
import urllib.parse
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from infergate._config import USER_AGENT, Settings
from infergate.errors import InvalidRequest


@dataclass(frozen=True)
class ApiRequest:
    """A request to the API (``path``) or to a presigned URL (``url``, sent without the API key)."""

    method: str
    path: str = ""
    url: str = ""
    params: Mapping[str, str | int] = field(default_factory=dict)
    content: bytes | Path | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    # Whether sending it twice is harmless: reads, PUTs, POSTs the server deduplicates by Idempotency-Key,
    # and POSTs whose repetition changes nothing (a cancel, an unused upload, a synchronous prediction).
    replayable: bool = True
    read_timeout: float | None = None  # a longer read timeout than the client's (a held ``Prefer: wait``)

    @property
    def presigned(self) -> bool:
        return bool(self.url)


def post(path: str, body: Any = None, *, replayable: bool, **extra: Any) -> ApiRequest:
    """A POST of ``body`` as JSON. ``replayable``: whether sending it twice is harmless (see ``ApiRequest``)."""
    headers = dict(extra.pop("headers", {}))
    content = None
    if body is not None:
        content = json_body(body)
        headers["Content-Type"] = "application/json"
    return ApiRequest("POST", path, content=content, headers=headers, replayable=replayable, **extra)


def deduplicated_post(path: str, body: Any, *, idempotency_key: str | None = None, **extra: Any) -> ApiRequest:
    """A create the server deduplicates by ``Idempotency-Key`` (predictions, batches): so it may be replayed.

    The key is the caller's, or a fresh one kept for every retry of this call. Only these creates carry one:
    the other routes ignore the header, and sending it would promise a protection they do not give.
    """
    headers = {"Idempotency-Key": idempotency_key or str(uuid.uuid4()), **extra.pop("headers", {})}
    return post(path, body, replayable=True, headers=headers, **extra)


def json_body(body: Any) -> bytes:
    """``body`` as JSON; ``InvalidRequest`` before anything is sent when it has no JSON form (NaN, Infinity, ...)."""
    try:
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    except (ValueError, TypeError) as error:
        raise InvalidRequest(f"the request body is not valid JSON: {error}") from None


def segment(value: str | int) -> str:
    """A value (an id, a name) as one path segment: every ``/``, ``?``, ``#``, ``%`` quoted; ``.``/``..`` refused.

    So no id can reach another route: ``predictions.cancel("../batches/bat_1")`` cannot cancel a batch.
    """
    text = str(value)
    if text in ("", ".", ".."):  # an empty segment names the collection; dot segments are removed by httpx
        raise InvalidRequest(f"{text!r} is not an id or a name")
    return urllib.parse.quote(text, safe="")


def url_of(settings: Settings, request: ApiRequest) -> str:
    return request.url or f"{settings.base_url}{request.path}"


def headers_of(settings: Settings, request: ApiRequest) -> dict[str, str]:
    """The API key goes to the API only, never to a presigned URL (which carries its own authorisation)."""
    headers = {"User-Agent": USER_AGENT}
    if not request.presigned:
        headers |= {"Authorization": f"Bearer {settings.api_key}", "Accept": "application/json"}
    return headers | dict(request.headers)


def timeout_of(settings: Settings, request: ApiRequest, cap: float | None = None) -> httpx.Timeout:
    """The client's timeouts (a longer read for a held request), each at most ``cap`` seconds when given."""
    chosen = settings.timeout
    if request.read_timeout is not None and (chosen.read or 0) < request.read_timeout:
        chosen = httpx.Timeout(connect=chosen.connect, read=request.read_timeout, write=chosen.write, pool=chosen.pool)
    if cap is None:
        return chosen

    def capped(seconds: float | None) -> float:
        return cap if seconds is None else min(seconds, cap)

    return httpx.Timeout(
        connect=capped(chosen.connect), read=capped(chosen.read), write=capped(chosen.write), pool=capped(chosen.pool)
    )
