"""The auth dependency: resolve the bearer key to a Caller with the needed scope, within its rate limit."""

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.keys.models import AuthenticationError, Caller, Scope
from shared.observability import logger
from shared.services import key_service, rate_limiter

_bearer = HTTPBearer(auto_error=False, description="An Infergate API key: `Authorization: Bearer igk_...`")

Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def authenticated(scope: Scope) -> Callable[[HTTPAuthorizationCredentials | None], Caller]:
    """A FastAPI dependency that admits keys holding ``scope`` (``admin`` implies ``predict``)."""

    def dependency(credentials: Credentials) -> Caller:
        if credentials is None:
            raise AuthenticationError()
        caller = key_service().authenticate(credentials.credentials, scope)
        logger.append_keys(tenant=caller.tenant, key_id=caller.key_id)
        rate_limiter().check(caller.key_id)
        return caller

    return dependency


PredictCaller = Annotated[Caller, Depends(authenticated(Scope.PREDICT))]
AdminCaller = Annotated[Caller, Depends(authenticated(Scope.ADMIN))]
