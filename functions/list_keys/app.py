"""GET /v1/keys (admin): the tenant's keys, without secrets."""

from fastapi import APIRouter

from shared.api.app import lambda_handler
from shared.api.auth import AdminCaller
from shared.api.jsonbody import StrictJsonRoute
from shared.api.openapi import Tag
from shared.api.params import DEFAULT_LIMIT, Cursor, Limit
from shared.api.problems import responses
from shared.api.schemas import KeyList, KeyOut
from shared.wiring import key_service

router = APIRouter(tags=[Tag.KEYS], route_class=StrictJsonRoute)


@router.get("/v1/keys", response_model=KeyList, responses=responses(400, 401, 403), summary="List API keys")
async def list_keys(caller: AdminCaller, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> KeyList:
    """The tenant's keys, newest first, paged with `limit` and `cursor` (never their secrets). Needs
    an admin key; a malformed `limit` or `cursor` is a 400."""
    page = key_service().list(caller.tenant, limit, cursor)
    return KeyList(results=[KeyOut.of(key) for key in page.items], next=page.next_cursor)


handler = lambda_handler(router)
