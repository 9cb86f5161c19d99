"""The route class every router uses: request bodies are decoded by the one strict JSON decoder.

FastAPI reads a JSON body with ``Request.json()`` (``json.loads``: a repeated key silently keeps its
last value, so ``{"model": "echo", "model": "sentiment"}`` would run ``sentiment``). This route hands
its handler a request whose ``json()`` is ``shared.kernel.jsoncodec.loads``, which refuses duplicate keys
with a ``JSONDecodeError``: FastAPI turns that into the same 400 ``malformed-json`` as any other
unparseable body, and ``shared.api.problems`` names the key and where it is.
"""

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from shared.kernel import jsoncodec


class StrictJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_strict_json"):
            self._strict_json = jsoncodec.loads(await self.body())
        return self._strict_json


class StrictJsonRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def strict_handler(request: Request) -> Response:
            return await handle(StrictJsonRequest(request.scope, request.receive))

        return strict_handler
