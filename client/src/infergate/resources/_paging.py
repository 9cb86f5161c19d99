"""Following ``next`` cursors through a list, as a flow that emits each item."""

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from infergate._config import Settings
from infergate._flow import Emit, Flow, call
from infergate._request import ApiRequest
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
    """Every item of the list from ``cursor`` on (at most ``limit``), page after page until ``next`` is null."""
    if limit is not None and limit < 0:
        raise ValueError("limit must be 0 or more")
    emitted = 0
    size = page_size or (min(limit, MAX_PAGE_SIZE) if limit else None)
    while limit is None or emitted < limit:
        query: dict[str, str | int] = dict(params or {})
        if size:
            query["limit"] = size
        if cursor:
            query["cursor"] = cursor
        page = Page.model_validate((yield from call(settings, ApiRequest("GET", path, params=query))))
        for item in page.items:
            if limit is not None and emitted >= limit:
                return
            yield Emit(parse(item))
            emitted += 1
        if not page.next:
            return
        cursor = page.next
