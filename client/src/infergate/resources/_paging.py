"""Following ``next`` cursors through a list, as a flow that emits each item."""

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from infergate._config import Settings
from infergate._flow import Emit, Flow, call_as
from infergate._request import ApiRequest
from infergate.errors import InvalidRequest
from infergate.models import Page

T = TypeVar("T")
MAX_PAGE_SIZE = 100


def pages(
    settings: Settings,
    path: str,
    parse: Callable[[dict[str, Any]], T],
    *,
    limit: int | None = None,
    page_size: int | None = None,
    cursor: str | None = None,
    params: Mapping[str, str | int] | None = None,
) -> Flow[None]:
    """Every item of the list from ``cursor`` on (at most ``limit``), page after page until ``next`` is null.

    ``page_size`` is how many items each request asks for: 1 to ``MAX_PAGE_SIZE`` (the API refuses more with
    a 400, so a larger one is lowered to it). Default: the API's, or ``limit`` when smaller.
    """
    if limit is not None and limit < 0:
        raise InvalidRequest("limit must be 0 or more")
    if page_size is not None and page_size < 1:
        raise InvalidRequest("page_size must be 1 or more")
    emitted = 0
    size = min(page_size, MAX_PAGE_SIZE) if page_size else (min(limit, MAX_PAGE_SIZE) if limit else None)
    while limit is None or emitted < limit:
        query: dict[str, str | int] = dict(params or {})
        if size:
            query["limit"] = size
        if cursor:
            query["cursor"] = cursor
        items, cursor = yield from call_as(settings, ApiRequest("GET", path, params=query), _reader(parse))
        for item in items:
            if limit is not None and emitted >= limit:
                return
            yield Emit(item)
            emitted += 1
        if not cursor:
            return


def _reader(parse: Callable[[dict[str, Any]], T]) -> Callable[[Any], tuple[list[T], str | None]]:
    """Reads a page: its items, each parsed (so an unexpected item fails as the page does), and its ``next``."""

    def read(body: Any) -> tuple[list[T], str | None]:
        page = Page.model_validate(body)
        return [parse(item) for item in page.items], page.next

    return read
