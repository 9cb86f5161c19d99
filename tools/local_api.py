"""The local HTTP API: every route function's router, mounted on the same app factory.

The route functions are ``async def`` and make blocking AWS calls: in Lambda each container serves one
request at a time, so nothing waits behind them (and no thread hop is paid). One local server serves
every route and many clients at once, so :class:`RequestPerThread` gives each request its own thread
and event loop — as Lambda gives each concurrent request its own container — and the log keys of an
invocation of the function API Gateway would route it to (name, cold start, request id).
"""

import asyncio
import re
from collections.abc import Callable
from importlib import import_module

import anyio.to_thread
from fastapi import APIRouter, FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.api.app import create_app
from shared.api.bodies import body_rule
from shared.kernel import tracing
from shared.kernel.observability import invocation
from tools.aws_identity import as_function
from tools.lambda_runtime import context_for
from tools.template import FunctionSpec, Template, load_template


def routers(template: Template) -> list[APIRouter]:
    """Routers of the functions that serve explicit routes, in template order."""
    found: list[APIRouter] = []
    for spec in template.functions:
        if spec.routes:
            found.append(import_module(spec.module).router)
    return found


def build_app(template: Template | None = None) -> FastAPI:
    return create_app(*routers(template or load_template()))


def route_of(template: Template, method: str, path: str) -> tuple[FunctionSpec, str]:
    """The function API Gateway sends a request to, and the route key it matched: the first route of the
    template whose method and path match, else the ``$default`` route."""
    default = None
    for spec in template.functions:
        if spec.default_route:
            default = spec
        for route in spec.routes:
            if route.method == method and re.fullmatch(re.sub(r"\{[^/]+\}", "[^/]+", route.path), path):
                return spec, f"{route.method} {route.path}"
    if default is None:
        raise LookupError("template.yaml has no $default route")
    return default, "$default"


def serving_app(template: Template | None = None) -> "RequestPerThread":
    """The app the local stack serves over HTTP."""
    template = template or load_template()
    return RequestPerThread(build_app(template), lambda method, path: route_of(template, method, path))


class RequestPerThread:
    """ASGI wrapper: read the request, run the app on a worker thread's own loop, send its response.

    The body is read up to one byte past its route's limit (``shared.api.bodies``): the app's own
    middleware then answers 413, as it would in Lambda, without this server buffering an oversized upload.
    """

    def __init__(
        self,
        app: ASGIApp,
        function_of: Callable[[str, str], tuple[FunctionSpec, str]] | None = None,
        max_body_bytes: int | None = None,
    ) -> None:
        self.app = app
        # (method, path) -> the function whose invocation serves it, and the route key API Gateway matched
        self.function_of = function_of
        self.max_body_bytes = max_body_bytes  # None: each route's own limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes or body_rule(scope["method"], scope["path"]).max_bytes
        body = await self._read_body(receive, limit)
        for message in await anyio.to_thread.run_sync(self._serve, scope, body):
            await send(message)

    async def _read_body(self, receive: Receive, limit: int) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    def _serve(self, scope: Scope, body: bytes) -> list[Message]:
        sent: list[Message] = []
        delivered = False

        async def receive() -> Message:
            nonlocal delivered
            if delivered:
                return {"type": "http.disconnect"}
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def collect(message: Message) -> None:
            sent.append(message)

        async def serve() -> None:
            await self.app(scope, receive, collect)

        if self.function_of is None:
            asyncio.run(serve())
        else:
            spec, route_key = self.function_of(scope["method"], scope["path"])
            # as the function's handler does in Lambda (``shared.api.app.lambda_handler``): a span per request
            # when tracing is on, exported before the answer
            with invocation(context_for(spec)), as_function(spec.logical_id):
                try:
                    with tracing.server_span(route_key, {"faas.name": spec.logical_id}) as status:
                        asyncio.run(serve())
                        status(next((m["status"] for m in sent if m["type"] == "http.response.start"), 500))
                finally:
                    tracing.flush()
        return sent
