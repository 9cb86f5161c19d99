"""Which dialect a request on a route both dialects share speaks (``POST /v1/uploads``, ``/v1/batches*``).

A route marks an OpenAI request with ``request.state.openai_dialect = True`` in a dependency listed before
its body and its caller, so that every error it answers, body validation's too, is OpenAI's 400 where ours
would be 422 (``shared.api.problems.error_document``).
"""

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request


def mark_openai_dialect(request: Request) -> None:
    request.state.openai_dialect = True


def openai_dialect_when(is_openai: Callable[[Any], bool]) -> Callable[[Request], Coroutine[Any, Any, None]]:
    """A dependency that marks the request as OpenAI's when its JSON body passes ``is_openai`` (FastAPI has
    already parsed it, and answered 400 if it could not: the decoded body is read again from its cache)."""

    async def dependency(request: Request) -> None:
        if await request.body() and is_openai(await request.json()):
            mark_openai_dialect(request)

    return dependency
