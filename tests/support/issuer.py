"""An OpenID Connect issuer on loopback, as an identity provider looks to API Gateway: its discovery document,
its JWKS, and access tokens signed with its current RSA key. ``rotate()`` publishes a new key and signs with
it from then on; the old key stays published until ``retire()``. No external identity provider is needed."""

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.loopback import QuietHandler, base_url, serving

AUDIENCE = "infergate-api"


@dataclass
class SigningKey:
    kid: str
    private: rsa.RSAPrivateKey

    def public_jwk(self, alg: str | None = "RS256") -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        jwk.update({"kid": self.kid, "use": "sig"})
        if alg:
            jwk["alg"] = alg
        return jwk

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def new_key(kid: str) -> SigningKey:
    return SigningKey(kid, rsa.generate_private_key(public_exponent=65537, key_size=2048))


class LoopbackIssuer:
    def __init__(self) -> None:
        self.keys = [new_key("key-1")]
        self.key_algorithms: dict[str, str | None] = {}  # kid -> the "alg" its JWK names (default RS256)
        self.fetches: list[str] = []  # the paths fetched, in order
        self.url = ""  # set once it serves (``running_issuer``)

    @property
    def current(self) -> SigningKey:
        return self.keys[-1]

    def rotate(self) -> SigningKey:
        """Publish a new key and sign with it from now on (the old one stays published)."""
        self.keys.append(new_key(f"key-{len(self.keys) + 1}"))
        return self.current

    def retire(self, kid: str) -> None:
        self.keys = [key for key in self.keys if key.kid != kid]

    def jwks(self) -> dict[str, Any]:
        return {"keys": [key.public_jwk(self.key_algorithms.get(key.kid, "RS256")) for key in self.keys]}

    def token(
        self,
        claims: dict[str, Any] | None = None,
        *,
        key: SigningKey | None = None,
        algorithm: str = "RS256",
        headers: dict[str, Any] | None = None,
        lifetime: int = 300,
        omit: tuple[str, ...] = (),
    ) -> str:
        """An access token from this issuer: ``iss``, ``aud``, ``sub``, ``iat``, ``exp`` set unless in ``omit``
        or given in ``claims``, signed by ``key`` (the current one by default)."""
        now = int(time.time())
        signer = key or self.current
        payload: dict[str, Any] = {"iss": self.url, "aud": AUDIENCE, "sub": "user-1", "iat": now, "exp": now + lifetime}
        payload.update(claims or {})
        for name in omit:
            payload.pop(name, None)
        return jwt.encode(payload, signer.private, algorithm=algorithm, headers={"kid": signer.kid, **(headers or {})})

    def handler(self) -> type[QuietHandler]:
        issuer = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's hook name
                issuer.fetches.append(self.path)
                if self.path == "/.well-known/openid-configuration":
                    body = {"issuer": issuer.url, "jwks_uri": f"{issuer.url}/jwks.json"}
                elif self.path == "/jwks.json":
                    body = issuer.jwks()
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


@contextmanager
def running_issuer() -> Iterator[LoopbackIssuer]:
    issuer = LoopbackIssuer()
    with serving(issuer.handler()) as server:
        issuer.url = base_url(server)
        yield issuer
