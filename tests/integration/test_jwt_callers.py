"""JWT callers through the deployed handlers: payload 2.0 events carrying the claims where API Gateway's JWT
authorizer puts them, made by the local authorizer from tokens of an issuer on loopback. Tenant, scopes,
isolation, rate limits, idempotency and webhook secrets work as they do for API keys."""

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from shared.kernel.observability import metrics
from shared.keys.models import Scope
from shared.wiring import reset
from tests.conftest import CapturedLogs, MintKey
from tests.support.events import bearer, response_json
from tests.support.gateway import call
from tests.support.issuer import AUDIENCE, LoopbackIssuer, running_issuer
from tools.jwt_authorizer import JwtAuthorizer
from tools.provision import Stack

PREDICT = "infergate/predict"
ADMIN = "infergate/admin"


class Caller:
    """A JWT caller: each request carries the token, and the claims the authorizer verified in it."""

    def __init__(self, issuer: LoopbackIssuer, authorizer: JwtAuthorizer, claims: dict[str, Any]) -> None:
        self.token = issuer.token(claims)
        self.claims = authorizer.claims(f"Bearer {self.token}")

    def call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return call(method, path, headers=headers, jwt_claims=self.claims, **kwargs)


@pytest.fixture(scope="module")
def issuer() -> Iterator[LoopbackIssuer]:
    with running_issuer() as running:
        yield running


NewCaller = Callable[[dict[str, Any]], Caller]


@pytest.fixture
def jwt_caller(issuer: LoopbackIssuer, stack: Stack) -> NewCaller:
    """A caller with a fresh token of ``issuer`` carrying the given claims."""
    authorizer = JwtAuthorizer(issuer.url, [AUDIENCE])
    return lambda claims: Caller(issuer, authorizer, claims)


def _problem(response: dict[str, Any], status: int) -> dict[str, Any]:
    assert response["statusCode"] == status, response
    assert response["headers"]["content-type"] == "application/problem+json"
    body: dict[str, Any] = response_json(response)
    return body


def _create(caller: Caller, **kwargs: Any) -> dict[str, Any]:
    return caller.call("POST", "/v1/predictions", body={"model": "echo", "input": {"x": 1}}, **kwargs)


def test_a_jwt_caller_acts_for_the_tenant_its_claim_names(jwt_caller: NewCaller, mint: MintKey) -> None:
    caller = jwt_caller({"tenant": "acme", "scope": f"openid {PREDICT}"})
    created = _create(caller)
    assert created["statusCode"] == 201
    prediction_id = response_json(created)["id"]

    assert caller.call("GET", f"/v1/predictions/{prediction_id}")["statusCode"] == 200
    same_tenant_key = mint("acme", (Scope.PREDICT,))
    listed = call("GET", "/v1/predictions", headers=bearer(same_tenant_key.secret))
    assert [item["id"] for item in response_json(listed)["results"]] == [prediction_id]

    other_tenant_key = mint("globex", (Scope.PREDICT,))
    assert call("GET", f"/v1/predictions/{prediction_id}", headers=bearer(other_tenant_key.secret))["statusCode"] == 404
    other_tenant_token = jwt_caller({"tenant": "globex", "scope": PREDICT})
    assert other_tenant_token.call("GET", f"/v1/predictions/{prediction_id}")["statusCode"] == 404
    assert response_json(other_tenant_token.call("GET", "/v1/predictions"))["results"] == []


@pytest.mark.parametrize(
    ("claims", "detail"),
    [
        ({"scope": PREDICT}, "The token has no 'tenant' claim naming its tenant."),
        ({"tenant": "", "scope": PREDICT}, "The token has no 'tenant' claim naming its tenant."),
        ({"tenant": "Acme Corp", "scope": PREDICT}, "claim is not a tenant"),
        ({"tenant": ["acme"], "scope": PREDICT}, "claim is not a tenant"),  # an array reaches us as "[acme]"
        ({"tenant": "acme"}, "grants none of 'infergate/admin', 'infergate/predict'"),
        ({"tenant": "acme", "scope": "openid email predict"}, "grants none of"),
        ({"tenant": "acme", "scope": "infergate/predict-all"}, "grants none of"),
    ],
)
def test_a_token_without_a_tenant_or_a_known_scope_is_403_and_changes_nothing(
    jwt_caller: NewCaller, mint: MintKey, claims: dict[str, Any], detail: str
) -> None:
    refused = _problem(_create(jwt_caller(claims)), 403)
    assert refused["type"] == "urn:infergate:problem:forbidden"
    assert detail in refused["detail"]
    key = mint("acme", (Scope.PREDICT,))
    assert response_json(call("GET", "/v1/predictions", headers=bearer(key.secret)))["results"] == []


def test_predict_scope_cannot_administer_and_admin_scope_can(jwt_caller: NewCaller) -> None:
    predictor = jwt_caller({"tenant": "acme", "scope": PREDICT})
    refused = _problem(predictor.call("POST", "/v1/keys", body={"name": "ci", "scopes": ["predict"]}), 403)
    assert refused["detail"] == "This token lacks the 'admin' scope."

    administrator = jwt_caller({"tenant": "acme", "scope": ADMIN})
    minted = administrator.call("POST", "/v1/keys", body={"name": "ci", "scopes": ["predict"]})
    assert minted["statusCode"] == 201
    key = response_json(minted)
    assert _create(administrator)["statusCode"] == 201  # admin implies predict
    created_with_key = call(
        "POST", "/v1/predictions", body={"model": "echo", "input": {"x": 2}}, headers=bearer(key["key"])
    )
    assert created_with_key["statusCode"] == 201
    listed = response_json(administrator.call("GET", "/v1/predictions"))["results"]
    assert len(listed) == 2  # the key it minted acts for the token's tenant


def test_scopes_claim_and_names_follow_the_configuration(
    jwt_caller: NewCaller, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Okta and Entra ID send scopes as an array (``scp``), which API Gateway flattens to ``[a b]``."""
    monkeypatch.setenv("JWT_SCOPES_CLAIM", "scp")
    monkeypatch.setenv("JWT_TENANT_CLAIM", "tid")
    monkeypatch.setenv("JWT_PREDICT_SCOPE", "Inference.Run")
    reset()
    caller = jwt_caller({"tid": "0f6c9b4e-1d2a-4c7e-9a51-3b8d2e6f7a90", "scp": ["User.Read", "Inference.Run"]})
    assert _create(caller)["statusCode"] == 201
    unconfigured = jwt_caller({"tid": "acme", "scope": PREDICT})
    detail = _problem(_create(unconfigured), 403)["detail"]
    assert "'scp' claim grants none of 'Inference.Run', 'infergate/admin'" in detail


def test_a_jwt_on_the_api_key_api_is_refused(jwt_caller: NewCaller) -> None:
    """Without the authorizer (the API-key API) a token is just a bearer credential that is not a key."""
    caller = jwt_caller({"tenant": "acme", "scope": ADMIN})
    answer = call("GET", "/v1/predictions", headers={"authorization": f"Bearer {caller.token}"})
    assert _problem(answer, 401)["type"] == "urn:infergate:problem:unauthenticated"


def test_logs_name_the_credential_kind_and_never_the_token(jwt_caller: NewCaller, captured_logs: CapturedLogs) -> None:
    caller = jwt_caller({"tenant": "acme", "scope": PREDICT, "sub": "alice@example.com"})
    assert _create(caller)["statusCode"] == 201
    created = next(record for record in captured_logs.records if record.get("message") == "prediction queued")
    assert created["credential"] == "jwt"
    assert created["tenant"] == "acme"
    assert created["principal_id"].startswith("jwt_")
    assert caller.token not in captured_logs.text
    assert caller.token.split(".")[2] not in captured_logs.text
    assert "alice@example.com" not in captured_logs.text


def test_rate_limits_count_each_subject_and_the_tenant(jwt_caller: NewCaller, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RATE_LIMIT_PER_SECOND", "0.5")
    monkeypatch.setenv("RATE_LIMIT_BURST", "2")
    reset()
    loud = jwt_caller({"tenant": "acme", "scope": PREDICT, "sub": "loud"})
    quiet = jwt_caller({"tenant": "acme", "scope": PREDICT, "sub": "quiet"})
    answers = [loud.call("GET", "/v1/predictions")["statusCode"] for _ in range(3)]
    assert answers == [200, 200, 429]
    assert quiet.call("GET", "/v1/predictions")["statusCode"] == 200
    again = jwt_caller({"tenant": "acme", "scope": PREDICT, "sub": "loud"})  # a new token, the same subject
    assert again.call("GET", "/v1/predictions")["statusCode"] == 429


def test_idempotency_and_webhook_secrets_are_the_tenants(jwt_caller: NewCaller, mint: MintKey) -> None:
    caller = jwt_caller({"tenant": "acme", "scope": ADMIN})
    first = _create(caller, headers={"idempotency-key": "order-7"})
    replay = _create(caller, headers={"idempotency-key": "order-7"})
    assert response_json(replay)["id"] == response_json(first)["id"]

    key = mint("acme", (Scope.ADMIN,))
    by_token = response_json(caller.call("GET", "/v1/webhooks/secret"))
    by_key = response_json(call("GET", "/v1/webhooks/secret", headers=bearer(key.secret)))
    assert by_token == by_key


def test_metrics_count_requests_by_credential(
    jwt_caller: NewCaller, mint: MintKey, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key = mint("acme", (Scope.PREDICT,))
    metrics.clear_metrics()  # while disabled, the tests before left theirs unflushed
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    capsys.readouterr()

    jwt_caller({"tenant": "acme", "scope": PREDICT}).call("GET", "/v1/predictions")
    call("GET", "/v1/predictions", headers=bearer(key.secret))

    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    counted = [name for document in documents for name in ("JwtCaller", "ApiKeyCaller") if name in document]
    assert counted == ["JwtCaller", "ApiKeyCaller"]
