"""Every call as a generator that yields what it needs done (send, sleep, emit) and gets the results back.

The logic of a call (retries, parsing, polling, paging) is written once, here and in ``resources``;
``_drivers`` performs the steps with a blocking or an async httpx client. Transport errors are thrown
back into the generator at the ``yield`` that caused them.
"""

import json
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

import httpx

from infergate import _retry
from infergate._config import Settings
from infergate._request import ApiRequest
from infergate.errors import (
    APIConnectionError,
    APITimeoutError,
    InfergateError,
    UnexpectedResponse,
    api_error,
    retry_after,
)

T = TypeVar("T")
# What httpx raises while sending or reading: thrown back into the flow, which turns it into a typed error.
HTTPX_ERRORS = (httpx.HTTPError, httpx.StreamError)


@dataclass(frozen=True)
class Send:
    """Send a request; the reply is the ``httpx.Response`` (read, or left open when ``stream`` and successful).

    ``timeout``: at most this many seconds for each of connecting, writing, reading (what a deadline leaves).
    """

    request: ApiRequest
    stream: bool = False
    timeout: float | None = None


@dataclass(frozen=True)
class Sleep:
    seconds: float


@dataclass(frozen=True)
class Notify:
    """Call the caller's callback (awaited if it returns an awaitable)."""

    callback: Callable[[Any], object]
    value: Any


@dataclass(frozen=True)
class Emit:
    """Hand one item to the iterating caller."""

    item: Any


@dataclass(frozen=True)
class EmitLines:
    """Hand each JSON line of an open streamed response to the iterating caller, then close it.

    The driver feeds the response's bytes to ``lines`` (a ``JsonLines``) and emits what it answers.
    """

    response: httpx.Response
    lines: "JsonLines"


Step: TypeAlias = Send | Sleep | Notify | Emit | EmitLines
Flow: TypeAlias = Generator[Step, Any, T]


def send(
    settings: Settings, request: ApiRequest, *, stream: bool = False, deadline: "Deadline | None" = None
) -> Flow[httpx.Response]:
    """The successful response to ``request``, retried at most ``max_retries`` times; else the typed error.

    With a ``deadline``, each attempt's timeouts are capped to the time left (``MIN_REQUEST_TIMEOUT`` at
    least), and no retry is made that could not start before it: the last error is raised at once, and the
    deadline is marked ``passed``.
    """
    deadline = deadline or NEVER
    attempt = 0
    while True:
        failure: InfergateError
        try:
            response: httpx.Response = yield Send(request, stream, deadline.request_timeout())
        except httpx.TransportError as error:
            failure = typed_error(settings, error)
            if attempt >= settings.max_retries or not _retry.retryable_error(error, request):
                deadline.check()
                raise failure from None
            wait = _retry.delay(attempt, None)
        except HTTPX_ERRORS as error:
            raise typed_error(settings, error) from None
        else:
            if response.is_success:
                return response
            failure = api_error(response)
            if attempt >= settings.max_retries or not _retry.retryable_status(response.status_code, request):
                deadline.check()
                raise failure
            wait = _retry.delay(attempt, retry_after(response))
        if not deadline.allows(wait):
            raise failure from None
        attempt += 1
        yield Sleep(wait)


def call(settings: Settings, request: ApiRequest) -> Flow[Any]:
    """The decoded JSON body of the successful response (None for an empty one, e.g. 204)."""
    response = yield from send(settings, request)
    return _body(request, response)


def call_as(
    settings: Settings, request: ApiRequest, parse: Callable[[Any], T], *, deadline: "Deadline | None" = None
) -> Flow[T]:
    """``parse`` of the JSON body; ``UnexpectedResponse`` when the body is not what ``parse`` reads."""
    response = yield from send(settings, request, deadline=deadline)
    body = _body(request, response)
    try:
        return parse(body)
    except (ValueError, TypeError, AttributeError, KeyError) as error:  # pydantic's ValidationError is a ValueError
        raise unexpected(request, response, "is not what this client expects") from error


def _body(request: ApiRequest, response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise unexpected(request, response, "is not JSON") from error


def emit_lines(settings: Settings, request: ApiRequest, response: httpx.Response, name: str) -> Flow[None]:
    """Emit each JSON object of the open response (JSONL); a broken stream or a bad line is a typed error."""
    try:
        yield EmitLines(response, JsonLines(request, response, name))
    except HTTPX_ERRORS as error:
        raise typed_error(settings, error) from None


class JsonLines:
    """A JSONL body fed in chunks: split on ``\\n`` only, each line UTF-8 and one JSON object.

    Only ``\\n`` ends a line: the JSON inside may hold U+2028, U+2029, ``\\x85`` or ``\\x1c``..``\\x1e`` raw,
    where ``str.splitlines`` would break it. A line may span chunks; the last one may lack its newline.
    Blank lines are skipped.
    """

    def __init__(self, request: ApiRequest, response: httpx.Response, name: str) -> None:
        self._request = request
        self._response = response
        self._name = name
        self._pending = bytearray()
        self._number = 0

    def feed(self, chunk: bytes) -> list[Any]:
        """The objects of the lines ``chunk`` completes."""
        self._pending += chunk
        end = self._pending.rfind(b"\n")
        if end < 0:
            return []
        complete = bytes(self._pending[:end])
        del self._pending[: end + 1]
        return [item for line in complete.split(b"\n") if (item := self._parse(line)) is not None]

    def end(self) -> list[Any]:
        """The object of a last line without a newline, if any."""
        rest, self._pending = bytes(self._pending), bytearray()
        item = self._parse(rest)
        return [] if item is None else [item]

    def _parse(self, line: bytes) -> Any:
        self._number += 1
        if not line.strip():
            return None
        try:
            item = json.loads(line.decode("utf-8"))
        except UnicodeDecodeError:
            raise self._bad("is not UTF-8") from None
        except json.JSONDecodeError:
            raise self._bad("is not JSON") from None
        if not isinstance(item, dict):
            raise self._bad("is not a JSON object")
        return item

    def _bad(self, what: str) -> UnexpectedResponse:
        return unexpected(self._request, self._response, f"of the {self._name}: line {self._number} {what}")


def unexpected(request: ApiRequest, response: httpx.Response, what: str) -> UnexpectedResponse:
    """The error for a successful answer the client cannot read (a presigned URL is not named: it is a secret)."""
    where = "the storage URL" if request.presigned else request.path
    return UnexpectedResponse(
        f"{request.method} {where}: the answer (HTTP {response.status_code}) {what}",
        response.status_code,
        response.headers.get("x-request-id"),
    )


MIN_REQUEST_TIMEOUT = 1.0  # the shortest timeout a request is given, however little time a deadline leaves


class Deadline:
    """A point in time (monotonic) that may be never; ``passed`` once reached, or once a retry gave up for it."""

    def __init__(self, seconds: float | None) -> None:
        self._at = None if seconds is None else time.monotonic() + seconds
        self._given_up = False

    def left(self) -> float | None:
        return None if self._at is None else self._at - time.monotonic()

    def passed(self) -> bool:
        left = self.left()
        return self._given_up or (left is not None and left <= 0)

    def request_timeout(self) -> float | None:
        """The cap of the next request's timeouts: the time left, ``MIN_REQUEST_TIMEOUT`` at least."""
        left = self.left()
        return None if left is None else max(left, MIN_REQUEST_TIMEOUT)

    def allows(self, wait: float) -> bool:
        """Whether a retry after ``wait`` seconds starts before the deadline; if not, it is given up."""
        left = self.left()
        if left is not None and wait >= left:
            self._given_up = True
        return not self._given_up

    def check(self) -> None:
        """Marks the deadline given up when it has passed (e.g. the last attempt timed out on it)."""
        self._given_up = self.passed()

    def nap(self, interval: float) -> float:
        """``interval``, or what is left if less."""
        left = self.left()
        return interval if left is None else max(0.0, min(interval, left))


NEVER = Deadline(None)  # never given up: allows() only marks a deadline that has a time


def typed_error(settings: Settings, error: Exception) -> InfergateError:
    """The typed error for what httpx raised. Its repr is never quoted: it may hold the request's headers."""
    name = type(error).__name__
    if isinstance(error, httpx.DecodingError):
        return UnexpectedResponse(f"the answer could not be decoded ({name})")
    if isinstance(error, httpx.TimeoutException):
        return APITimeoutError(f"the API did not answer in time ({name})")
    if isinstance(error, httpx.LocalProtocolError):  # the request itself was refused before it left: no details
        return APIConnectionError(f"the request could not be sent ({name})")
    if isinstance(error, httpx.TransportError | httpx.TooManyRedirects):
        return APIConnectionError(f"the API could not be reached ({name}: {_redacted(settings, str(error))})")
    return InfergateError(f"the HTTP exchange failed ({name})")


def _redacted(settings: Settings, text: str) -> str:
    return text.replace(settings.api_key, "***") if settings.api_key else text
