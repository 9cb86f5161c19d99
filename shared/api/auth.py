"""The auth dependency: resolve the bearer key to a Caller with the needed scope, within its key's and its
tenant's rate limits."""

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.kernel.observability import append_log_keys
from shared.keys.models import AuthenticationError, Caller, Scope
from shared.wiring import key_service, rate_limiter

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    bearerFormat="igk_...",
    description="An Infergate API key, `igk_...`, as `Authorization: Bearer igk_...` (an operator mints a "
    "tenant's first with `infergate admin keys mint`).",
)

Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def authenticated(scope: Scope) -> Callable[[HTTPAuthorizationCredentials | None], Coroutine[Any, Any, Caller]]:
    """A FastAPI dependency that admits keys holding ``scope`` (``admin`` implies ``predict``).

    ``async`` although its AWS calls block, like every route function: a Lambda container serves one
    request at a time, so there is nothing else for the loop to run, and FastAPI would otherwise
    move each call to a worker thread and back (hundreds of microseconds per request,
    ``bench/warm_overhead.py``). The local server gives each request its own thread instead.
    """

    async def dependency(credentials: Credentials) -> Caller:
        if credentials is None:
            raise AuthenticationError()
        caller = key_service().authenticate(credentials.credentials, scope)
        append_log_keys(tenant=caller.tenant, key_id=caller.key_id)
        rate_limiter().check(caller.key_id, caller.tenant)
        return caller

    return dependency


PredictCaller = Annotated[Caller, Depends(authenticated(Scope.PREDICT))]
AdminCaller = Annotated[Caller, Depends(authenticated(Scope.ADMIN))]
