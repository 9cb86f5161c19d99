"""The route class every router uses: request bodies are decoded by the one strict JSON decoder.

FastAPI reads a JSON body with ``Request.json()`` (``json.loads``: a repeated key silently keeps its
last value, so ``{"model": "echo", "model": "sentiment"}`` would run ``sentiment``). This route hands
its handler a request whose ``json()`` is ``shared.kernel.jsoncodec.loads``, which refuses duplicate keys
with a ``JSONDecodeError``: FastAPI turns that into the same 400 ``malformed-json`` as any other
unparseable body, and ``shared.api.problems`` names the key and where it is.

Its ``form()`` is bounded too: the multipart routes (``shared.api.bodies``) take one file and a few small
fields, so python-multipart refuses (400) a body with more, instead of spooling up to 1,000 files.
"""

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.datastructures import FormData

from shared.kernel import jsoncodec

if TYPE_CHECKING:  # the return type Starlette declares, from its private module: for the type checker only
    from starlette._utils import AwaitableOrContextManager

# OpenAI's multipart bodies: one file (`file`, or a part's `data`) and at most `purpose`,
# `expires_after[anchor]` and `expires_after[seconds]` beside it, each a few bytes.
MAX_FORM_FILES = 1
MAX_FORM_FIELDS = 8
MAX_FORM_FIELD_BYTES = 1024


class StrictJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_strict_json"):
            self._strict_json = jsoncodec.loads(await self.body())
        return self._strict_json

    def form(
        self,
        *,
        max_files: int | float = MAX_FORM_FILES,
        max_fields: int | float = MAX_FORM_FIELDS,
        max_part_size: int = MAX_FORM_FIELD_BYTES,
    ) -> "AwaitableOrContextManager[FormData]":
        return super().form(max_files=max_files, max_fields=max_fields, max_part_size=max_part_size)


class StrictJsonRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def strict_handler(request: Request) -> Response:
            return await handle(StrictJsonRequest(request.scope, request.receive))

        return strict_handler
