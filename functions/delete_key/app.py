"""DELETE /v1/keys/{key_id} (admin): revoke a key; it stops working at once."""

from fastapi import APIRouter, Response, status

from shared.api.app import lambda_handler
from shared.api.auth import AdminCaller
from shared.api.jsonbody import StrictJsonRoute
from shared.api.openapi import Tag
from shared.api.params import KeyIdPath
from shared.api.problems import responses
from shared.wiring import key_service

router = APIRouter(tags=[Tag.KEYS], route_class=StrictJsonRoute)


@router.delete(
    "/v1/keys/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=responses(400, 401, 403, 404),
    summary="Revoke an API key",
)
async def delete_key(key_id: KeyIdPath, caller: AdminCaller) -> Response:
    """Revokes a key of the caller's tenant at once: later requests with it are 401s. Needs an admin
    key. 404 for an unknown key or another tenant's; an id over 64 characters is a 400."""
    key_service().revoke(caller.tenant, key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


handler = lambda_handler(router)
