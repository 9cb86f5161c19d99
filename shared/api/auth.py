"""The auth dependency: resolve the caller, from a bearer API key or a JWT that API Gateway verified, to a
Caller with the needed scope, within its own and its tenant's rate limits."""

from collections.abc import Callable, Coroutine, Mapping
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import Scope as AsgiScope

from shared.kernel.observability import append_log_keys, metrics
from shared.keys.claims import caller_from_claims
from shared.keys.models import AuthenticationError, Caller, Credential, Scope
from shared.wiring import jwt_claim_mapping, key_service, rate_limiter

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    bearerFormat="igk_...",
    description="An Infergate API key, `igk_...`, as `Authorization: Bearer igk_...` (an operator mints a "
    "tenant's first with `infergate admin keys mint`).",
)

Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
_CREDENTIAL_METRICS = {Credential.API_KEY: "ApiKeyCaller", Credential.JWT: "JwtCaller"}


Dependency = Callable[[Request, HTTPAuthorizationCredentials | None], Coroutine[Any, Any, Caller]]


def authenticated(scope: Scope) -> Dependency:
    """A FastAPI dependency that admits callers holding ``scope`` (``admin`` implies ``predict``).

    ``async`` although its AWS calls block, like every route function: a Lambda container serves one
    request at a time, so there is nothing else for the loop to run, and FastAPI would otherwise
    move each call to a worker thread and back (hundreds of microseconds per request,
    ``bench/warm_overhead.py``). The local server gives each request its own thread instead.
    """

    async def dependency(request: Request, credentials: Credentials) -> Caller:
        claims = verified_jwt_claims(request.scope)
        if claims is not None:
            caller = caller_from_claims(claims, jwt_claim_mapping(), scope)
        elif credentials is None:
            raise AuthenticationError()
        else:
            caller = key_service().authenticate(credentials.credentials, scope)
        append_log_keys(tenant=caller.tenant, principal_id=caller.principal_id, credential=caller.credential.value)
        metrics.add_metric(name=_CREDENTIAL_METRICS[caller.credential], unit="Count", value=1)
        rate_limiter().check(caller.principal_id, caller.tenant)
        return caller

    return dependency


def verified_jwt_claims(scope: AsgiScope) -> Mapping[str, str] | None:
    """The claims of the JWT that API Gateway's authorizer verified for this request, where payload 2.0 puts
    them (``requestContext.authorizer.jwt.claims``), or None on a route without that authorizer.

    Only API Gateway writes ``requestContext``: a caller cannot, so claims found here were verified (the
    local stack's JWT API writes them the same way, after verifying the token as API Gateway does).
    """
    event = scope.get("aws.event")
    context = event.get("requestContext") if isinstance(event, dict) else None
    authorizer = context.get("authorizer") if isinstance(context, dict) else None
    jwt = authorizer.get("jwt") if isinstance(authorizer, dict) else None
    claims = jwt.get("claims") if isinstance(jwt, dict) else None
    if not isinstance(claims, dict):
        return None
    return {str(name): str(value) for name, value in claims.items()}


PredictCaller = Annotated[Caller, Depends(authenticated(Scope.PREDICT))]
AdminCaller = Annotated[Caller, Depends(authenticated(Scope.ADMIN))]
