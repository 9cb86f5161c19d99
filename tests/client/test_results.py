"""Reading a batch's result files: lines split on ``\\n`` only, typed errors for a bad line or a broken stream."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from infergate import APIConnectionError, UnexpectedResponse

from tests.client.fakes import FakeApi, batch, ok

OUT = "http://s3.test/out.jsonl"
# Each is a line break to str.splitlines, and written raw inside a JSON string by the server (ensure_ascii=False).
BREAKERS = "\u2028\u2029\x85\x1c\x1d\x1e\x0b\x0c"


class Chunks(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body sent in the given chunks, then (optionally) a broken connection; records its closing."""

    def __init__(self, *chunks: bytes, then: Exception | None = None) -> None:
        self.chunks = chunks
        self.then = then
        self.closed = False
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.sent += 1
            yield chunk
        if self.then is not None:
            raise self.then

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self:
            yield chunk

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


def api_serving(stream: Chunks) -> FakeApi:
    return (
        FakeApi()
        .on("GET", "/v1/batches/bat_1", ok(batch(output_url=OUT)))
        .on("GET", OUT, lambda _: httpx.Response(200, stream=stream))
    )


def in_bytes_of(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


ROWS = [
    {"custom_id": "a", "output": {"text": f"one{BREAKERS}two"}},
    {"custom_id": "b", "output": {"text": "café ☕"}},
    {"custom_id": "c", "output": {"text": "last, without a newline"}},
]
BODY = b"".join(json.dumps(row, ensure_ascii=False).encode() + b"\n" for row in ROWS).rstrip(b"\n")


@pytest.mark.parametrize("size", [1, 3, 7, len(BODY)])
def test_lines_are_split_on_newline_only_across_any_chunking(size: int) -> None:
    api = api_serving(Chunks(*in_bytes_of(BODY, size)))

    assert list(api.client().batches.results("bat_1")) == ROWS


def test_the_async_client_splits_lines_alike() -> None:
    api = api_serving(Chunks(*in_bytes_of(BODY + b"\r\n\n", 5)))

    async def read() -> list[Any]:
        async with api.async_client() as client:
            return [line async for line in client.batches.results("bat_1")]

    assert asyncio.run(read()) == ROWS


@pytest.mark.parametrize(
    ("body", "what"),
    [
        (b'{"custom_id": "a"}\n<html>oops</html>\n', "line 2 is not JSON"),
        (b'{"custom_id": "caf\xe9"}\n', "line 1 is not UTF-8"),
        (b'{"custom_id": "a"}\n\n[1, 2]', "line 3 is not a JSON object"),
    ],
)
def test_a_bad_line_is_an_unexpected_response_and_the_stream_is_closed(body: bytes, what: str) -> None:
    stream = Chunks(body)
    api = api_serving(stream)

    with pytest.raises(UnexpectedResponse, match=what) as raised:
        list(api.client().batches.results("bat_1"))

    assert raised.value.status == 200
    assert "s3.test" not in str(raised.value)  # a presigned URL is a secret
    assert stream.closed


def test_a_stream_broken_midway_is_a_connection_error() -> None:
    stream = Chunks(b'{"custom_id": "a"}\n{"custom', then=httpx.ReadError("connection reset"))
    api = api_serving(stream)
    got: list[Any] = []

    with pytest.raises(APIConnectionError, match="ReadError"):
        got.extend(api.client().batches.results("bat_1"))

    assert stream.closed


def test_an_async_stream_broken_midway_is_a_connection_error() -> None:
    stream = Chunks(b'{"custom_id": "a"}\n', then=httpx.ReadError("connection reset"))
    api = api_serving(stream)

    async def read() -> list[Any]:
        async with api.async_client() as client:
            return [line async for line in client.batches.results("bat_1")]

    with pytest.raises(APIConnectionError):
        asyncio.run(read())
    assert stream.closed


def test_breaking_out_of_async_for_closes_the_stream_promptly() -> None:
    stream = Chunks(*[b'{"custom_id": "x"}\n'] * 100)
    api = api_serving(stream)
    closed: list[bool] = []

    async def read_one() -> None:
        async with api.async_client() as client:
            async for _line in client.batches.results("bat_1"):
                break
            # asyncio closes an abandoned async generator from a task it schedules: two turns of the loop.
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            closed.append(stream.closed)

    asyncio.run(read_one())

    assert closed == [True]
    assert stream.sent < 100


def test_aclosing_the_async_results_closes_the_stream_at_once() -> None:
    stream = Chunks(*[b'{"custom_id": "x"}\n'] * 100)
    api = api_serving(stream)
    closed: list[bool] = []

    async def read_one() -> None:
        async with api.async_client() as client:
            async with contextlib.aclosing(client.batches.results("bat_1")) as lines:
                async for _line in lines:
                    break
            closed.append(stream.closed)

    asyncio.run(read_one())

    assert closed == [True]


def test_breaking_out_of_for_closes_the_stream_at_once() -> None:
    stream = Chunks(*[b'{"custom_id": "x"}\n'] * 100)
    api = api_serving(stream)

    for _line in api.client().batches.results("bat_1"):
        break

    assert stream.closed
