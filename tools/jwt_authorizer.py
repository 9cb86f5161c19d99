"""API Gateway's JWT authorizer, for the local stack's JWT API: the functions then see what they see in AWS.

What it checks is what the API Gateway developer guide lists for HTTP API JWT authorizers ("Authorizing
API requests with a JWT authorizer"): the token from the ``Authorization`` header (``Bearer`` stripped),
a ``kid`` naming a key of the issuer's JWKS (found through the issuer's OpenID discovery document),
a signature by that key with an RSA algorithm (RS256/384/512, and only the one the key names when it
names one), ``iss`` equal to the configured issuer, ``aud`` (else ``client_id``) among the configured
audiences, and ``exp``, ``nbf`` and ``iat`` against the clock. Anything else is a 401 with API
Gateway's body, ``{"message":"Unauthorized"}``; the function is not invoked.

A verified token's claims reach the function where payload format 2.0 puts them,
``requestContext.authorizer.jwt.claims``, each as a string as API Gateway hands them over (numbers as
digits, an array as ``[a b c]``), with ``scopes`` null (no route here requires authorization scopes).

Keys are kept for two hours, as API Gateway keeps them, and fetched again at once for a ``kid`` they do
not hold (a rotated key), at most every ``REFRESH_INTERVAL_SECONDS``. The token's own ``jku``, ``x5u``
and ``jwk`` headers are never followed: keys come only from the configured issuer.
"""

import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import anyio.to_thread
import httpx
import jwt
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ALGORITHMS = ("RS256", "RS384", "RS512")  # "Currently, only RSA-based algorithms are supported."
KEYS_KEPT_SECONDS = 2 * 60 * 60
REFRESH_INTERVAL_SECONDS = 1.0  # a flood of made-up kids costs the issuer one fetch a second
FETCH_TIMEOUT_SECONDS = 5.0
MAX_DOCUMENT_BYTES = 1024 * 1024
UNAUTHORIZED_BODY = b'{"message":"Unauthorized"}'


class UnauthorizedError(Exception):
    """The token is missing or fails a check; the message says which (for the local stack's log)."""


Fetch = Callable[[str], Any]


def fetch_json(url: str) -> Any:
    """GET a JSON document from the issuer, bounded in time and size."""
    with (
        httpx.Client(timeout=FETCH_TIMEOUT_SECONDS, follow_redirects=False) as client,
        client.stream("GET", url) as response,
    ):
        response.raise_for_status()
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > MAX_DOCUMENT_BYTES:
                raise ValueError(f"{url} sent more than {MAX_DOCUMENT_BYTES} bytes")
    return json.loads(body)


class JwtAuthorizer:
    def __init__(
        self,
        issuer: str,
        audiences: Sequence[str],
        fetch: Fetch = fetch_json,
        clock: Callable[[], float] = time.time,
        refresh_interval: float = REFRESH_INTERVAL_SECONDS,
    ) -> None:
        if not issuer or not [audience for audience in audiences if audience]:
            raise ValueError("a JWT authorizer needs an issuer and at least one audience")
        self.issuer = issuer
        self.audiences = frozenset(audience for audience in audiences if audience)
        self._fetch = fetch
        self._clock = clock
        self._refresh_interval = refresh_interval
        self._keys: dict[str, dict[str, Any]] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()

    def claims(self, authorization: str | None) -> dict[str, str]:
        """The claims of the token in ``authorization``, as API Gateway passes them; ``UnauthorizedError`` if any
        check fails."""
        token = _token(authorization)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as error:
            raise UnauthorizedError(f"not a JWT: {error}") from error
        algorithm, kid = header.get("alg"), header.get("kid")
        if algorithm not in ALGORITHMS:
            raise UnauthorizedError(f"algorithm {algorithm!r} is not one of {', '.join(ALGORITHMS)}")
        if not isinstance(kid, str) or not kid:
            raise UnauthorizedError("the token names no key (kid)")
        key = self._key(kid)
        if key.get("alg") not in (None, algorithm):
            raise UnauthorizedError(f"key {kid!r} is for {key['alg']}, not {algorithm}")
        try:
            public_key = jwt.PyJWK(key, algorithm).key
            verified: dict[str, Any] = jwt.decode(
                token,
                public_key,
                algorithms=[algorithm],
                issuer=self.issuer,
                leeway=0,
                options={"require": ["exp", "iss"], "verify_aud": False, "verify_iat": False},
            )
        except (jwt.InvalidTokenError, jwt.PyJWKError) as error:
            raise UnauthorizedError(str(error)) from error
        self._check_audience(verified)
        self._check_issued_at(verified)
        return {name: flattened(value) for name, value in verified.items()}

    def _check_audience(self, claims: Mapping[str, Any]) -> None:
        """``aud`` must name a configured audience; ``client_id`` is read only when there is no ``aud``."""
        if "aud" in claims:
            named = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        else:
            named = [claims.get("client_id")]
        if not self.audiences.intersection(value for value in named if isinstance(value, str)):
            raise UnauthorizedError("the token's audience (aud, else client_id) is not one this API accepts")

    def _check_issued_at(self, claims: Mapping[str, Any]) -> None:
        issued_at = claims.get("iat")
        if issued_at is None:
            return
        if not isinstance(issued_at, int | float) or isinstance(issued_at, bool):
            raise UnauthorizedError("iat is not a number")
        if issued_at > self._clock():
            raise UnauthorizedError("the token was issued in the future (iat)")

    def _key(self, kid: str) -> dict[str, Any]:
        with self._lock:
            now = time.monotonic()
            stale = self._fetched_at is None or now - self._fetched_at > KEYS_KEPT_SECONDS
            may_refresh = self._fetched_at is None or now - self._fetched_at >= self._refresh_interval
            if stale or (kid not in self._keys and may_refresh):
                self._keys = self._fetch_keys()
                self._fetched_at = now
            key = self._keys.get(kid)
        if key is None:
            raise UnauthorizedError(f"no key {kid!r} in the issuer's JWKS")
        return key

    def _fetch_keys(self) -> dict[str, dict[str, Any]]:
        try:
            discovery = self._fetch(self.issuer.rstrip("/") + "/.well-known/openid-configuration")
            jwks_uri = discovery["jwks_uri"] if isinstance(discovery, dict) else None
            if not isinstance(jwks_uri, str) or not jwks_uri.startswith(("https://", "http://")):
                raise ValueError("the discovery document names no jwks_uri")
            document = self._fetch(jwks_uri)
        except (httpx.HTTPError, ValueError, KeyError) as error:
            raise UnauthorizedError(f"the issuer's keys could not be read: {error}") from error
        keys = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(keys, list):
            raise UnauthorizedError("the issuer's JWKS has no keys")
        return {
            key["kid"]: key
            for key in keys
            if isinstance(key, dict)
            and isinstance(key.get("kid"), str)
            and key.get("kty") == "RSA"
            and key.get("use", "sig") == "sig"
        }


def _token(authorization: str | None) -> str:
    if authorization is None or not authorization.strip():
        raise UnauthorizedError("no Authorization header")
    scheme, _, rest = authorization.strip().partition(" ")
    return rest.strip() if scheme.lower() == "bearer" and rest.strip() else authorization.strip()


def flattened(value: Any) -> str:
    """A claim's value as API Gateway hands it to the integration: a string for every type."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(flattened(item) for item in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{name}:{flattened(item)}" for name, item in sorted(value.items())) + "]"
    return str(value)


class JwtGate:
    """ASGI middleware in front of the local API: what API Gateway does on routes with a JWT authorizer.

    A request whose token passes reaches ``app`` with the verified claims in ``scope["aws.event"]``, as
    Mangum puts the Lambda event there in AWS; any other gets API Gateway's 401 and reaches nothing.
    """

    def __init__(self, app: ASGIApp, authorizer: JwtAuthorizer, log: Callable[[str], None] | None = None) -> None:
        self.app = app
        self.authorizer = authorizer
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        authorization = next(
            (value.decode("latin-1") for name, value in scope.get("headers", []) if name.lower() == b"authorization"),
            None,
        )
        try:  # a key refresh is a blocking fetch: off the event loop
            claims = await anyio.to_thread.run_sync(self.authorizer.claims, authorization)
        except UnauthorizedError as refusal:
            if self.log is not None:
                self.log(f"JWT authorizer refused {scope['method']} {scope['path']}: {refusal}")
            await _unauthorized(send)
            return
        event = {"version": "2.0", "requestContext": {"authorizer": {"jwt": {"claims": claims, "scopes": None}}}}
        await self.app({**scope, "aws.event": event}, receive, send)


async def _unauthorized(send: Send) -> None:
    start: Message = {
        "type": "http.response.start",
        "status": 401,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(UNAUTHORIZED_BODY)).encode()),
            (b"www-authenticate", b'Bearer error="invalid_token"'),
        ],
    }
    await send(start)
    await send({"type": "http.response.body", "body": UNAUTHORIZED_BODY})
