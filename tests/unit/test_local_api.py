"""The local server's request-per-thread wrapper: blocking ``async`` routes still serve clients at once."""

import threading
from collections.abc import AsyncIterator

import anyio
import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request

from shared.api.app import create_app
from shared.api.routes import allowed_methods
from shared.kernel.observability import logger, set_correlation_id
from shared.wiring import reset
from tests.conftest import CapturedLogs
from tools.local_api import RequestPerThread, build_app, route_of
from tools.template import load_template


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
async def test_each_request_logs_as_an_invocation_of_the_function_it_routes_to(captured_logs: CapturedLogs) -> None:
    """Every function shares this process: a line names the function and correlation id of its own request,
    also while a request for another function runs."""
    reset()  # no function has run in this "container" yet
    template = load_template()
    both_set_their_keys = threading.Barrier(2)
    app = FastAPI()

    @app.get("/v1/health")
    @app.get("/v2/health/live")
    async def serve(request: Request) -> None:
        set_correlation_id(request.headers["x-request-id"])  # as the request-context middleware does
        both_set_their_keys.wait(timeout=5)
        logger.info("served")

    serving = RequestPerThread(app, lambda method, path: route_of(template, method, path))
    async with client_of(serving) as client, anyio.create_task_group() as group:
        group.start_soon(lambda: client.get("/v1/health", headers={"x-request-id": "req-v1"}))
        group.start_soon(lambda: client.get("/v2/health/live", headers={"x-request-id": "req-v2"}))

    served = [line for line in captured_logs.records if line["message"] == "served"]
    assert sorted((line["function_name"], line["correlation_id"], line["cold_start"]) for line in served) == [
        ("GetHealthFunction", "req-v1", True),
        ("GetServerLiveFunction", "req-v2", True),
    ]


def test_a_request_goes_to_the_function_api_gateway_would_pick() -> None:
    template = load_template()
    spec, route_key = route_of(template, "DELETE", "/v1/keys/key_1")
    assert (spec.logical_id, route_key) == ("DeleteKeyFunction", "DELETE /v1/keys/{key_id}")
    spec, route_key = route_of(template, "PUT", "/v1/keys")
    assert (spec.logical_id, route_key) == ("RouteNotFoundFunction", "$default")


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


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/v1/predictions", "GET, POST"),
        ("DELETE", "/v1/keys", "GET, POST"),
        ("PATCH", "/v1/batches", "GET, POST"),
        ("DELETE", "/v1/models/echo/predict", "POST"),
        ("POST", "/v1/predictions/pred_01JD5YB4W3ZV0B4S8FZ7Q6N9XK", "GET"),
    ],
)
async def test_the_local_app_names_every_allowed_method_as_the_deployed_router_does(
    method: str, path: str, allowed: str
) -> None:
    """Starlette's own 405 names only the methods of the first route that matched the path (`Allow: POST`
    for /v1/predictions); the local stack must answer as the deployed ``$default`` function does."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=build_app()), base_url="http://local") as client:
        response = await client.request(method, path)

    assert response.status_code == 405
    assert response.headers["allow"] == allowed == ", ".join(allowed_methods(path))
    assert response.json()["type"] == "urn:infergate:problem:method-not-allowed"


def test_a_router_that_would_decode_bodies_leniently_is_refused() -> None:
    """Every route must read JSON with the strict decoder (duplicate keys refused); a plain router cannot slip in."""
    router = APIRouter()

    @router.post("/v1/anything")
    async def anything(body: dict[str, int]) -> dict[str, int]:
        return body

    with pytest.raises(TypeError, match="StrictJsonRoute"):
        create_app(router)
