"""The local stack's JWT authorizer against an issuer on loopback: what API Gateway accepts, it accepts, and
it refuses what API Gateway refuses (signature, issuer, audience, times, algorithms, unknown keys)."""

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest

from tests.support.issuer import AUDIENCE, LoopbackIssuer, new_key, running_issuer
from tools.jwt_authorizer import JwtAuthorizer, UnauthorizedError, flattened


@pytest.fixture
def issuer() -> Iterator[LoopbackIssuer]:
    with running_issuer() as running:
        yield running


@pytest.fixture
def authorizer(issuer: LoopbackIssuer) -> JwtAuthorizer:
    return JwtAuthorizer(issuer.url, [AUDIENCE, "other-audience"], refresh_interval=0.0)


def _unsigned(header: dict[str, Any], payload: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(payload)}."


def test_a_valid_token_gives_its_claims_as_api_gateway_passes_them(
    issuer: LoopbackIssuer, authorizer: JwtAuthorizer
) -> None:
    token = issuer.token({"tenant": "acme", "scope": "infergate/predict email", "groups": ["a", "b"], "ok": True})
    claims = authorizer.claims(f"Bearer {token}")
    assert claims["tenant"] == "acme"
    assert claims["scope"] == "infergate/predict email"
    assert claims["groups"] == "[a b]"
    assert claims["ok"] == "true"
    assert claims["exp"].isdigit()
    assert claims["iss"] == issuer.url
    assert authorizer.claims(token)["sub"] == "user-1"  # API Gateway also takes the bare token


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer    "])
def test_no_token_is_refused(authorizer: JwtAuthorizer, header: str | None) -> None:
    with pytest.raises(UnauthorizedError):
        authorizer.claims(header)


def test_a_token_signed_by_another_key_under_a_published_kid_is_refused(
    issuer: LoopbackIssuer, authorizer: JwtAuthorizer
) -> None:
    impostor = new_key(issuer.current.kid)
    with pytest.raises(UnauthorizedError, match="Signature"):
        authorizer.claims(issuer.token({"tenant": "acme"}, key=impostor))


def test_a_tampered_payload_is_refused(issuer: LoopbackIssuer, authorizer: JwtAuthorizer) -> None:
    header, _, signature = issuer.token({"tenant": "acme"}).split(".")
    forged = base64.urlsafe_b64encode(json.dumps({"tenant": "admin-tenant"}).encode()).rstrip(b"=").decode()
    with pytest.raises(UnauthorizedError):
        authorizer.claims(f"{header}.{forged}.{signature}")


def test_alg_none_is_refused(issuer: LoopbackIssuer, authorizer: JwtAuthorizer) -> None:
    now = int(time.time())
    payload = {"iss": issuer.url, "aud": AUDIENCE, "sub": "x", "exp": now + 60, "tenant": "acme"}
    with pytest.raises(UnauthorizedError, match="algorithm 'none'"):
        authorizer.claims(_unsigned({"alg": "none", "kid": issuer.current.kid}, payload))


def test_hmac_signed_with_the_public_key_is_refused(issuer: LoopbackIssuer, authorizer: JwtAuthorizer) -> None:
    """The classic confusion: the RSA public key (which anyone can fetch) used as an HMAC secret."""
    now = int(time.time())
    payload = {"iss": issuer.url, "aud": AUDIENCE, "sub": "x", "exp": now + 60, "tenant": "acme"}
    header = {"alg": "HS256", "kid": issuer.current.kid}
    signing_input = _unsigned(header, payload)[:-1].encode()
    import hashlib
    import hmac

    mac = hmac.new(issuer.current.public_pem(), signing_input, hashlib.sha256).digest()
    token = signing_input.decode() + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    with pytest.raises(UnauthorizedError, match="algorithm 'HS256'"):
        authorizer.claims(token)


def test_only_the_algorithm_the_key_names_is_accepted(issuer: LoopbackIssuer, authorizer: JwtAuthorizer) -> None:
    issuer.key_algorithms[issuer.current.kid] = "RS512"
    with pytest.raises(UnauthorizedError, match="is for RS512, not RS256"):
        authorizer.claims(issuer.token({"tenant": "acme"}, algorithm="RS256"))
    assert authorizer.claims(issuer.token({"tenant": "acme"}, algorithm="RS512"))["tenant"] == "acme"


def test_a_key_that_names_no_algorithm_takes_any_rsa_one(issuer: LoopbackIssuer, authorizer: JwtAuthorizer) -> None:
    issuer.key_algorithms[issuer.current.kid] = None
    assert authorizer.claims(issuer.token({"tenant": "acme"}, algorithm="RS384"))["tenant"] == "acme"
    with pytest.raises(UnauthorizedError, match="algorithm 'ES256'"):
        authorizer.claims(_unsigned({"alg": "ES256", "kid": issuer.current.kid}, {"tenant": "acme"}) + "c2ln")


@pytest.mark.parametrize(
    ("claims", "omit", "reason"),
    [
        ({"iss": "https://elsewhere.example"}, (), "issuer"),
        ({"aud": "someone-else"}, (), "audience"),
        ({"aud": ["someone-else", "and-another"]}, (), "audience"),
        ({}, ("aud",), "audience"),  # neither aud nor client_id
        ({"aud": "someone-else", "client_id": AUDIENCE}, (), "audience"),  # aud wins over client_id
        ({"exp": int(time.time()) - 5}, (), "expired"),
        ({}, ("exp",), "exp"),
        ({}, ("iss",), "iss"),
        ({"nbf": int(time.time()) + 600}, (), "not yet valid"),
        ({"iat": int(time.time()) + 600}, (), "issued in the future"),
        ({"iat": "yesterday"}, (), "iat"),
    ],
)
def test_claims_api_gateway_checks_are_checked(
    issuer: LoopbackIssuer, authorizer: JwtAuthorizer, claims: dict[str, Any], omit: tuple[str, ...], reason: str
) -> None:
    with pytest.raises(UnauthorizedError, match=reason):
        authorizer.claims(issuer.token(claims, omit=omit))


def test_client_id_stands_for_the_audience_when_there_is_no_aud(
    issuer: LoopbackIssuer, authorizer: JwtAuthorizer
) -> None:
    token = issuer.token({"client_id": "other-audience", "tenant": "acme"}, omit=("aud",))
    assert authorizer.claims(token)["client_id"] == "other-audience"
    listed = issuer.token({"aud": ["someone-else", AUDIENCE]})
    assert authorizer.claims(listed)["aud"] == f"[someone-else {AUDIENCE}]"


def test_a_rotated_key_is_fetched_when_a_token_names_it(issuer: LoopbackIssuer, authorizer: JwtAuthorizer) -> None:
    first = issuer.token({"tenant": "acme"})
    assert authorizer.claims(first)["tenant"] == "acme"
    jwks_fetches = issuer.fetches.count("/jwks.json")
    old = issuer.current
    issuer.rotate()
    assert authorizer.claims(issuer.token({"tenant": "acme"}))["tenant"] == "acme"
    assert issuer.fetches.count("/jwks.json") == jwks_fetches + 1
    assert authorizer.claims(issuer.token({"tenant": "acme"}, key=old))["tenant"] == "acme"  # still published
    assert issuer.fetches.count("/jwks.json") == jwks_fetches + 1  # known keys are not fetched again


def test_a_kid_the_issuer_does_not_publish_is_refused_and_refreshes_are_rate_limited(issuer: LoopbackIssuer) -> None:
    authorizer = JwtAuthorizer(issuer.url, [AUDIENCE], refresh_interval=3600)
    assert authorizer.claims(issuer.token())["sub"] == "user-1"
    fetched = len(issuer.fetches)
    stranger = new_key("not-published")
    for _ in range(5):
        with pytest.raises(UnauthorizedError, match="no key 'not-published'"):
            authorizer.claims(issuer.token(key=stranger))
    assert len(issuer.fetches) == fetched  # within the refresh interval: no fetch for a made-up kid


def test_the_tokens_own_key_headers_are_never_followed(issuer: LoopbackIssuer, authorizer: JwtAuthorizer) -> None:
    stranger = new_key("key-1")  # same kid as the issuer's, its own key
    headers = {"jku": "http://127.0.0.1:9/jwks.json", "jwk": stranger.public_jwk(), "x5u": "http://127.0.0.1:9/x"}
    with pytest.raises(UnauthorizedError, match="Signature"):
        authorizer.claims(issuer.token({"tenant": "acme"}, key=stranger, headers=headers))
    assert all(path in {"/.well-known/openid-configuration", "/jwks.json"} for path in issuer.fetches)


def test_a_token_without_a_kid_is_refused(issuer: LoopbackIssuer, authorizer: JwtAuthorizer) -> None:
    token = jwt.encode({"iss": issuer.url, "aud": AUDIENCE}, issuer.current.private, algorithm="RS256")
    with pytest.raises(UnauthorizedError, match="kid"):
        authorizer.claims(token)


@pytest.mark.parametrize("garbage", ["not-a-jwt", "a.b.c", "eyJhbGciOiJSUzI1NiJ9..", "Bearer " + "A" * 50])
def test_garbage_is_refused(authorizer: JwtAuthorizer, garbage: str) -> None:
    with pytest.raises(UnauthorizedError):
        authorizer.claims(garbage)


def test_an_unreachable_issuer_refuses_rather_than_admits() -> None:
    authorizer = JwtAuthorizer("http://127.0.0.1:9", [AUDIENCE])
    with running_issuer() as other:
        token = other.token()
    with pytest.raises(UnauthorizedError, match="could not be read"):
        authorizer.claims(token)


def test_an_authorizer_needs_an_issuer_and_an_audience() -> None:
    with pytest.raises(ValueError, match="audience"):
        JwtAuthorizer("https://issuer.example", [""])
    with pytest.raises(ValueError, match="issuer"):
        JwtAuthorizer("", [AUDIENCE])


def test_flattening_matches_api_gateways_strings() -> None:
    assert flattened(1700000000) == "1700000000"
    assert flattened(["a", 1, False]) == "[a 1 false]"
    assert flattened({"b": 2, "a": [1]}) == "map[a:[1] b:2]"
    assert flattened("x y") == "x y"
