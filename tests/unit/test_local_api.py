"""The local server's request-per-thread wrapper: blocking ``async`` routes still serve clients at once."""

import threading
from collections.abc import AsyncIterator

import anyio
import httpx
import pytest
from fastapi import FastAPI, Request

from tools.local_api import RequestPerThread


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def blocking_app(barrier: threading.Barrier) -> FastAPI:
    app = FastAPI()

    @app.get("/wait")
    async def wait_for_the_other() -> dict[str, int]:
        barrier.wait(timeout=5)  # blocks this request's loop, as a route's boto3 call does
        return {"thread": threading.get_ident()}

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    return app


def client_of(app: RequestPerThread) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://local")


@pytest.mark.anyio
async def test_two_blocking_requests_overlap() -> None:
    """On one shared loop the first request would block the second, and the barrier would time out."""
    results: list[httpx.Response] = []
    async with client_of(RequestPerThread(blocking_app(threading.Barrier(2)))) as client:

        async def get() -> None:
            results.append(await client.get("/wait"))

        async with anyio.create_task_group() as group:
            group.start_soon(get)
            group.start_soon(get)
    assert [response.status_code for response in results] == [200, 200]
    assert len({response.json()["thread"] for response in results}) == 2
    assert threading.get_ident() not in {response.json()["thread"] for response in results}


@pytest.mark.anyio
async def test_the_body_reaches_the_app() -> None:
    async with client_of(RequestPerThread(blocking_app(threading.Barrier(1)))) as client:
        response = await client.post("/echo", content=b"12345")
    assert response.json() == {"size": 5}


@pytest.mark.anyio
async def test_an_oversized_body_is_not_read_to_the_end() -> None:
    """Reading stops one chunk past the cap; the app (its middleware, in Infergate) answers 413 from that."""

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b"x" * 10

    async with client_of(RequestPerThread(blocking_app(threading.Barrier(1)), max_body_bytes=15)) as client:
        response = await client.post("/echo", content=chunks())
    assert response.json() == {"size": 20}
