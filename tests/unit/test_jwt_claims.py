"""Mapping a verified token's claims to a caller: tenant, scopes, and the id its rate limit counts."""

import pytest

from shared.keys.claims import ClaimMapping, ClaimsRefusedError, caller_from_claims, claim_values, principal_id
from shared.keys.models import Credential, PermissionDeniedError, Scope

MAPPING = ClaimMapping("tenant", "scope", {"infergate/predict": Scope.PREDICT, "infergate/admin": Scope.ADMIN})
ISSUER = "https://issuer.example"


def _claims(**claims: str) -> dict[str, str]:
    return {"iss": ISSUER, "sub": "user-1", "tenant": "acme", "scope": "infergate/predict", **claims}


@pytest.mark.parametrize(
    ("value", "names"),
    [
        ("a b  c", ["a", "b", "c"]),
        ("[a b c]", ["a", "b", "c"]),
        (" [a] ", ["a"]),
        ("[]", []),
        ("", []),
        ("single", ["single"]),
    ],
)
def test_claim_values_read_strings_and_flattened_arrays(value: str, names: list[str]) -> None:
    assert claim_values(value) == names


def test_a_token_maps_to_its_tenant_scopes_and_subject() -> None:
    caller = caller_from_claims(_claims(scope="openid infergate/admin"), MAPPING, Scope.PREDICT)

    assert caller.tenant == "acme"
    assert caller.scopes == frozenset({Scope.ADMIN})
    assert caller.credential is Credential.JWT
    assert caller.principal_id == principal_id(ISSUER, "user-1")


def test_the_principal_is_stable_per_issuer_and_subject_and_hides_the_subject() -> None:
    first = principal_id(ISSUER, "alice@example.com")

    assert first == principal_id(ISSUER, "alice@example.com")
    assert first != principal_id("https://other.example", "alice@example.com")
    assert first != principal_id(ISSUER, "bob@example.com")
    assert first.startswith("jwt_")
    assert "alice" not in first
    assert len(first) == 36


def test_client_id_names_the_subject_of_a_machine_token_without_sub() -> None:
    claims = _claims(client_id="svc-7")
    del claims["sub"]

    assert caller_from_claims(claims, MAPPING, Scope.PREDICT).principal_id == principal_id(ISSUER, "svc-7")


def test_a_token_without_a_subject_is_refused() -> None:
    claims = _claims()
    del claims["sub"]

    with pytest.raises(ClaimsRefusedError, match="neither a 'sub' nor a 'client_id'"):
        caller_from_claims(claims, MAPPING, Scope.PREDICT)


def test_predict_does_not_grant_admin() -> None:
    with pytest.raises(PermissionDeniedError, match=r"^This token lacks the 'admin' scope\.$"):
        caller_from_claims(_claims(), MAPPING, Scope.ADMIN)


def test_scope_names_are_matched_exactly() -> None:
    for near_miss in ("INFERGATE/PREDICT", "infergate/predict,infergate/admin", "infergate/"):
        with pytest.raises(ClaimsRefusedError, match="grants none of"):
            caller_from_claims(_claims(scope=near_miss), MAPPING, Scope.PREDICT)
