"""JWT callers over the local stack's JWT API, started as `make dev` starts it with JWT_ISSUER set: the local
authorizer verifies each token against an issuer the test runs on loopback, then the functions map its
claims. The openai SDK works with only its base URL and api_key (the token) changed."""

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from infergate import Infergate
from openai import AuthenticationError, OpenAI

from shared.registry.builtins import EMBEDDING_MODEL
from tests.e2e.conftest import LocalStack, mint_key, running_stack
from tests.support.issuer import AUDIENCE, LoopbackIssuer, new_key, running_issuer
from tools.stack_process import free_port

pytestmark = pytest.mark.e2e

PREDICT = "infergate/predict"
ADMIN = "infergate/admin"
JWT_PORT = free_port()


@pytest.fixture(scope="module")
def issuer() -> Iterator[LoopbackIssuer]:
    with running_issuer() as running:
        yield running


@pytest.fixture(scope="module")
def stack(issuer: LoopbackIssuer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    settings = {
        "JWT_ISSUER": issuer.url,
        "JWT_AUDIENCES": f"{AUDIENCE}, another-api",
        "JWT_PORT": str(JWT_PORT),
        "RATE_LIMIT_PER_SECOND": "1000",
        "RATE_LIMIT_BURST": "1000",
        "TENANT_RATE_LIMIT_PER_SECOND": "1000",
        "TENANT_RATE_LIMIT_BURST": "1000",
    }
    with running_stack(tmp_path_factory.mktemp("jwt-stack"), settings) as started:
        assert started.jwt_base_url is not None
        yield started


def _log(stack: LocalStack) -> str:
    return (stack.state_file.parent / "stack.log").read_text(encoding="utf-8", errors="replace")


def test_a_jwt_caller_predicts_and_sees_only_its_tenants_work(stack: LocalStack, issuer: LoopbackIssuer) -> None:
    token = issuer.token({"tenant": "acme", "scope": PREDICT, "sub": "alice@example.com"})
    with stack.jwt_client(token) as caller:
        created = caller.post(
            "/v1/predictions", json={"model": "sentiment", "input": {"text": "great"}}, headers={"Prefer": "wait=10"}
        )
        assert created.status_code == 201, created.text
        prediction = created.json()
        assert prediction["status"] == "succeeded", prediction
        assert caller.get(f"/v1/predictions/{prediction['id']}").json()["output"] == prediction["output"]

    with stack.client(mint_key(stack, "acme", "predict")) as same_tenant:
        assert same_tenant.get(f"/v1/predictions/{prediction['id']}").status_code == 200
    other = issuer.token({"tenant": "globex", "scope": PREDICT})
    with stack.jwt_client(other) as other_tenant:
        assert other_tenant.get(f"/v1/predictions/{prediction['id']}").status_code == 404

    log = _log(stack)
    assert '"credential":"jwt"' in log
    assert token not in log
    assert token.split(".")[2] not in log
    assert "alice@example.com" not in log


def test_the_openai_sdk_embeds_with_a_token_as_its_api_key(stack: LocalStack, issuer: LoopbackIssuer) -> None:
    assert stack.jwt_base_url is not None
    token = issuer.token({"tenant": "acme", "scope": PREDICT})
    client = OpenAI(base_url=stack.jwt_base_url + "/v1", api_key=token, max_retries=0)

    embedded = client.embeddings.create(model=EMBEDDING_MODEL.name, input=["hello world"])
    assert len(embedded.data[0].embedding) == 384

    expired = issuer.token({"tenant": "acme", "scope": PREDICT}, lifetime=-10)
    refused = OpenAI(base_url=stack.jwt_base_url + "/v1", api_key=expired, max_retries=0)
    with pytest.raises(AuthenticationError):
        refused.embeddings.create(model=EMBEDDING_MODEL.name, input=["hello world"])


def test_the_infergate_client_takes_a_token_in_place_of_a_key(stack: LocalStack, issuer: LoopbackIssuer) -> None:
    assert stack.jwt_base_url is not None
    token = issuer.token({"tenant": "acme", "scope": PREDICT})
    with Infergate(stack.jwt_base_url, token) as client:
        assert client.run("sentiment", {"text": "Tokens work as well as keys."}, timeout=30)["label"] == "positive"


@pytest.mark.parametrize(
    "case", ["no token", "expired", "wrong audience", "other issuer", "unpublished key", "api key", "alg none"]
)
def test_the_authorizer_refuses_before_any_function_runs(stack: LocalStack, issuer: LoopbackIssuer, case: str) -> None:
    assert stack.jwt_base_url is not None
    claims = {"tenant": "acme", "scope": ADMIN}
    headers = {
        "no token": {},
        "expired": {"Authorization": f"Bearer {issuer.token(claims, lifetime=-10)}"},
        "wrong audience": {"Authorization": f"Bearer {issuer.token({**claims, 'aud': 'someone-else'})}"},
        "other issuer": {"Authorization": f"Bearer {issuer.token({**claims, 'iss': 'https://evil.example'})}"},
        "unpublished key": {"Authorization": f"Bearer {issuer.token(claims, key=new_key('key-1'))}"},
        "api key": {"Authorization": f"Bearer {stack.admin_key}"},
        "alg none": {"Authorization": "Bearer eyJhbGciOiJub25lIiwia2lkIjoia2V5LTEifQ.eyJ0ZW5hbnQiOiJhY21lIn0."},
    }[case]

    answer = httpx.post(
        stack.jwt_base_url + "/v1/keys", json={"name": "sneaky", "scopes": ["admin"]}, headers=headers, timeout=30
    )

    assert answer.status_code == 401
    assert answer.json() == {"message": "Unauthorized"}
    with stack.client(stack.admin_key) as operator:
        names = [key["name"] for key in operator.get("/v1/keys").json()["results"]]
    assert "sneaky" not in names


def test_a_verified_token_without_a_tenant_or_scope_gets_the_functions_403(
    stack: LocalStack, issuer: LoopbackIssuer
) -> None:
    for claims, detail in [
        ({"scope": PREDICT}, "no 'tenant' claim"),
        ({"tenant": "acme", "scope": "openid profile"}, "grants none of"),
    ]:
        with stack.jwt_client(issuer.token(claims)) as caller:
            answer = caller.get("/v1/predictions")
        assert answer.status_code == 403
        assert answer.headers["content-type"] == "application/problem+json"
        assert detail in answer.json()["detail"]


def test_a_rotated_signing_key_is_picked_up(stack: LocalStack, issuer: LoopbackIssuer) -> None:
    with stack.jwt_client(issuer.token({"tenant": "acme", "scope": PREDICT})) as before:
        assert before.get("/v1/predictions").status_code == 200
    old = issuer.current
    time.sleep(1.1)  # the authorizer fetches the keys again for an unknown kid at most once a second
    issuer.rotate()
    with stack.jwt_client(issuer.token({"tenant": "acme", "scope": PREDICT})) as after:
        assert after.get("/v1/predictions").status_code == 200
    issuer.retire(old.kid)
    with stack.jwt_client(issuer.token({"tenant": "acme", "scope": PREDICT})) as still:
        assert still.get("/v1/predictions").status_code == 200


def test_the_api_key_api_still_serves_keys_and_refuses_tokens(stack: LocalStack, issuer: LoopbackIssuer) -> None:
    with stack.client(stack.admin_key) as by_key:
        assert by_key.get("/v1/predictions").status_code == 200
    with stack.client(issuer.token({"tenant": "acme", "scope": ADMIN})) as token_on_key_api:
        refused = token_on_key_api.get("/v1/predictions")
    assert refused.status_code == 401
    assert refused.json()["type"] == "urn:infergate:problem:unauthenticated"


def test_the_state_file_names_the_jwt_api_on_the_port_asked_for(stack: LocalStack) -> None:
    state = json.loads(Path(stack.state_file).read_text(encoding="utf-8"))

    assert state["jwt_base_url"] == f"http://127.0.0.1:{JWT_PORT}"
    assert state["jwt_base_url"] != state["base_url"]
    assert httpx.get(f"{state['jwt_base_url']}/v1/health", timeout=10).status_code == 401  # behind the authorizer
    assert httpx.get(f"{state['base_url']}/v1/health", timeout=10).status_code == 200
