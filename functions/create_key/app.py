"""POST /v1/keys (admin): mint a key for the caller's tenant; the secret is shown once."""

from fastapi import APIRouter, status

from shared.api.app import lambda_handler
from shared.api.auth import AdminCaller
from shared.api.jsonbody import StrictJsonRoute
from shared.api.openapi import Tag
from shared.api.problems import responses
from shared.api.schemas import CreatedKeyOut, CreateKeyRequest
from shared.wiring import key_service

router = APIRouter(tags=[Tag.KEYS], route_class=StrictJsonRoute)


@router.post(
    "/v1/keys",
    status_code=status.HTTP_201_CREATED,
    response_model=CreatedKeyOut,
    responses=responses(400, 401, 403, 409, 415, 422),
    summary="Create an API key",
)
async def create_key(body: CreateKeyRequest, caller: AdminCaller) -> CreatedKeyOut:
    """Mints an API key for the caller's tenant, with the `predict` or `admin` scope. The secret
    (`igk_...`) is in this answer only: it is stored as a hash. Needs an admin key. 409
    `key-limit-reached` when the tenant already holds `MAX_KEYS_PER_TENANT` active keys; 422 for a name
    with control characters or an unknown scope."""
    key, secret = key_service().create(caller.tenant, body.name, body.scopes)
    return CreatedKeyOut.of(key, secret)


handler = lambda_handler(router)
