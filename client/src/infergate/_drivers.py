"""The only I/O of the client: performing a flow's steps with a blocking or an async httpx client."""

import asyncio
import inspect
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx

from infergate._config import Settings
from infergate._flow import HTTPX_ERRORS, Emit, EmitLines, Flow, Notify, Send, Sleep, Step
from infergate._request import headers_of, timeout_of, url_of
from infergate.errors import InvalidRequest

T = TypeVar("T")
CHUNK = 1024 * 1024


class _Done(Exception):  # noqa: N818 - not an error: how a finished flow leaves the drive loop
    """The flow returned ``value``."""

    def __init__(self, value: Any) -> None:
        self.value = value


def _advance(flow: Flow[Any], reply: Any, error: BaseException | None) -> Step:
    try:
        return flow.throw(error) if error is not None else flow.send(reply)
    except StopIteration as done:
        raise _Done(done.value) from None


def _emitted(step: Step) -> TypeError:
    return TypeError(f"a single-answer call cannot emit ({type(step).__name__}): iterate it instead")


class SyncDriver:
    """Runs flows with an ``httpx.Client``."""

    def __init__(self, settings: Settings, http: httpx.Client) -> None:
        self.settings = settings
        self.http = http

    def run(self, flow: Flow[T]) -> T:
        try:
            for step in self._drive(flow):
                raise _emitted(step)
        except _Done as done:
            return done.value  # type: ignore[no-any-return]
        raise AssertionError("unreachable")  # pragma: no cover - _drive always ends with _Done

    def iterate(self, flow: Flow[None]) -> Iterator[Any]:
        try:
            yield from self._drive(flow)
        except _Done:
            return

    def _drive(self, flow: Flow[Any]) -> Generator[Any, None, None]:
        """Yields what the flow emits; raises ``_Done`` when it returns (``run`` unwraps it)."""
        reply: Any = None
        error: BaseException | None = None
        try:
            while True:
                step = _advance(flow, reply, error)
                reply, error = None, None
                if isinstance(step, Emit):
                    yield step.item
                elif isinstance(step, EmitLines):
                    try:
                        for chunk in step.response.iter_bytes():
                            yield from step.lines.feed(chunk)
                        yield from step.lines.end()
                    except HTTPX_ERRORS as failed:
                        error = failed
                    finally:
                        step.response.close()
                elif isinstance(step, Sleep):
                    time.sleep(step.seconds)
                elif isinstance(step, Notify):
                    step.callback(step.value)
                else:
                    try:
                        reply = self._send(step)
                    except HTTPX_ERRORS as failed:
                        error = failed
        finally:
            flow.close()

    def _send(self, step: Send) -> httpx.Response:
        request = _built(self._build, step)
        response = self.http.send(request, stream=step.stream)
        if step.stream and not response.is_success:
            try:
                response.read()
            finally:
                response.close()
        return response

    def _build(self, step: Send) -> httpx.Request:
        return _request(self.http, self.settings, step, _chunks)


class AsyncDriver:
    """Runs flows with an ``httpx.AsyncClient``."""

    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.http = http

    async def run(self, flow: Flow[T]) -> T:
        result: list[T] = []
        async for step in self._drive(flow, result):
            raise _emitted(step)
        return result[0]

    async def iterate(self, flow: Flow[None]) -> AsyncGenerator[Any, None]:
        """Closed at once when the caller stops early (not one event-loop turn later, as a nested generator is)."""
        items = self._drive(flow, [])
        try:
            async for item in items:
                yield item
        finally:
            await items.aclose()

    async def _drive(self, flow: Flow[Any], result: list[Any]) -> AsyncGenerator[Any, None]:
        """Yields what the flow emits; appends what it returns to ``result`` (async generators return nothing)."""
        reply: Any = None
        error: BaseException | None = None
        try:
            while True:
                try:
                    step = _advance(flow, reply, error)
                except _Done as done:
                    result.append(done.value)
                    return
                reply, error = None, None
                if isinstance(step, Emit):
                    yield step.item
                elif isinstance(step, EmitLines):
                    try:
                        async for chunk in step.response.aiter_bytes():
                            for item in step.lines.feed(chunk):
                                yield item
                        for item in step.lines.end():
                            yield item
                    except HTTPX_ERRORS as failed:
                        error = failed
                    finally:
                        await step.response.aclose()
                elif isinstance(step, Sleep):
                    await asyncio.sleep(step.seconds)
                elif isinstance(step, Notify):
                    outcome = step.callback(step.value)
                    if inspect.isawaitable(outcome):
                        await outcome
                else:
                    try:
                        reply = await self._send(step)
                    except HTTPX_ERRORS as failed:
                        error = failed
        finally:
            flow.close()

    async def _send(self, step: Send) -> httpx.Response:
        request = _built(self._build, step)
        response = await self.http.send(request, stream=step.stream)
        if step.stream and not response.is_success:
            try:
                await response.aread()
            finally:
                await response.aclose()
        return response

    def _build(self, step: Send) -> httpx.Request:
        return _request(self.http, self.settings, step, _async_chunks)


def _request(
    http: httpx.Client | httpx.AsyncClient,
    settings: Settings,
    step: Send,
    read: Callable[[Path], Iterator[bytes] | AsyncIterator[bytes]],
) -> httpx.Request:
    """The httpx request of ``step``: a file is sent as ``read`` yields it, never whole in memory."""
    request = step.request
    content: Any = read(request.content) if isinstance(request.content, Path) else request.content
    return http.build_request(
        request.method,
        url_of(settings, request),
        params=dict(request.params) or None,
        content=content,
        headers=headers_of(settings, request),
        timeout=timeout_of(settings, request, step.timeout),
    )


def _built(build: Callable[[Send], httpx.Request], step: Send) -> httpx.Request:
    """The httpx request; ``InvalidRequest`` if httpx refuses it (the error is not quoted: it may hold headers)."""
    try:
        return build(step)
    except (ValueError, TypeError, httpx.InvalidURL) as error:  # UnicodeEncodeError is a ValueError
        raise InvalidRequest(f"{step.request.method} request could not be built ({type(error).__name__})") from None


def _chunks(path: Path) -> Iterator[bytes]:
    """The file, read as it is sent (never whole in memory)."""
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            yield chunk


async def _async_chunks(path: Path) -> AsyncIterator[bytes]:
    """The file, read in a thread as it is sent, so the event loop never blocks on the disk."""
    file = await asyncio.to_thread(path.open, "rb")
    try:
        while chunk := await asyncio.to_thread(file.read, CHUNK):
            yield chunk
    finally:
        await asyncio.to_thread(file.close)
