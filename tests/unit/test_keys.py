"""API keys: minting, hashing, scopes, revocation."""

import pytest

from shared.kernel.pagination import CursorCodec
from shared.keys.models import (
    AuthenticationError,
    InvalidTenantError,
    KeyNotFoundError,
    PermissionDeniedError,
    Scope,
    hash_secret,
)
from shared.keys.service import KeyService
from tests.support.fakes import InMemoryKeyStore


@pytest.fixture
def store() -> InMemoryKeyStore:
    return InMemoryKeyStore()


@pytest.fixture
def keys(store: InMemoryKeyStore) -> KeyService:
    return KeyService(store, CursorCodec(lambda: b"k" * 32))


def test_a_minted_key_has_256_bits_and_only_its_hash_is_stored(keys: KeyService, store: InMemoryKeyStore) -> None:
    key, secret = keys.create("acme", "ci", [Scope.PREDICT])

    assert secret.startswith("igk_")
    assert len(secret) >= 4 + 43
    assert list(store.by_hash) == [hash_secret(secret)]
    assert secret not in repr(store.by_hash)
    assert key.last4 == secret[-4:]


def test_authenticate_resolves_tenant_and_scopes(keys: KeyService) -> None:
    key, secret = keys.create("acme", "ci", [Scope.PREDICT])

    caller = keys.authenticate(secret, Scope.PREDICT)

    assert (caller.tenant, caller.principal_id, caller.scopes) == ("acme", key.id, frozenset({Scope.PREDICT}))


def test_admin_implies_predict(keys: KeyService) -> None:
    _, secret = keys.create("acme", "ops", [Scope.ADMIN])

    assert keys.authenticate(secret, Scope.PREDICT).tenant == "acme"


def test_predict_key_cannot_act_as_admin(keys: KeyService) -> None:
    _, secret = keys.create("acme", "ci", [Scope.PREDICT])

    with pytest.raises(PermissionDeniedError):
        keys.authenticate(secret, Scope.ADMIN)


@pytest.mark.parametrize(
    "secret", [None, "", "igk_", "Bearer x", "igk_" + "a" * 10, "igk_unknownbutwellformed000000000"]
)
def test_missing_malformed_or_unknown_keys_are_unauthenticated(keys: KeyService, secret: str | None) -> None:
    with pytest.raises(AuthenticationError):
        keys.authenticate(secret, Scope.PREDICT)


def test_a_revoked_key_stops_working_at_once(keys: KeyService) -> None:
    key, secret = keys.create("acme", "ci", [Scope.PREDICT])

    keys.revoke("acme", key.id)

    with pytest.raises(AuthenticationError):
        keys.authenticate(secret, Scope.PREDICT)


def test_revoking_another_tenants_key_is_not_found_and_changes_nothing(keys: KeyService) -> None:
    key, secret = keys.create("acme", "ci", [Scope.PREDICT])

    with pytest.raises(KeyNotFoundError):
        keys.revoke("globex", key.id)
    assert keys.authenticate(secret, Scope.PREDICT).tenant == "acme"


def test_malformed_key_ids_are_not_found(keys: KeyService) -> None:
    with pytest.raises(KeyNotFoundError):
        keys.revoke("acme", "not-an-id")


def test_list_pages_through_a_tenants_keys_only(keys: KeyService) -> None:
    mine = {keys.create("acme", f"k{i}", [Scope.PREDICT])[0].id for i in range(5)}
    keys.create("globex", "theirs", [Scope.PREDICT])

    first = keys.list("acme", 3, None)
    second = keys.list("acme", 3, first.next_cursor)

    assert {k.id for k in first.items + second.items} == mine
    assert second.next_cursor is None


@pytest.mark.parametrize("tenant", ["", "ACME", "-acme", "a" * 64, "ac me", "acme/../x"])
def test_tenant_names_are_validated(keys: KeyService, tenant: str) -> None:
    with pytest.raises(InvalidTenantError):
        keys.create(tenant, "x", [Scope.ADMIN])


def test_import_secret_is_idempotent_and_refuses_weak_secrets(keys: KeyService, store: InMemoryKeyStore) -> None:
    secret = "igk_localdevadminkey0000000000000000"

    keys.import_secret("local", "dev", [Scope.ADMIN], secret)
    keys.import_secret("local", "dev", [Scope.ADMIN], secret)

    assert len(store.by_hash) == 1
    with pytest.raises(AuthenticationError):
        keys.import_secret("local", "dev", [Scope.ADMIN], "short")
