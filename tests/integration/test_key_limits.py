"""A cap on a tenant's active API keys (moto): counted in the key's own transaction, freed by revoking."""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from shared.adapters.clients import dynamodb_client
from shared.adapters.dynamodb.keys import DynamoKeyStore
from shared.kernel.clock import to_rfc3339, utc_now
from shared.kernel.ids import IdKind, new_id
from shared.keys.models import ApiKey, KeyLimitReachedError, Scope, hash_secret
from shared.settings import StoreSettings, settings
from shared.wiring import reset
from tests.conftest import Credential, MintKey
from tests.support.emulated_table import emulated_table, emulator_client
from tests.support.events import bearer, response_json
from tests.support.gateway import call
from tools.provision import Stack

CAP = 3


@pytest.fixture
def capped(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_KEYS_PER_TENANT", str(CAP))
    reset()


def _create(admin: Credential, name: str = "ci") -> dict[str, Any]:
    return call("POST", "/v1/keys", body={"name": name, "scopes": ["predict"]}, headers=bearer(admin.secret))


def _stored(tenant: str) -> tuple[int, int]:
    """(the tenant's key items, its stored count of active keys)."""
    client = dynamodb_client()
    table = settings(StoreSettings).table_name
    keys = client.query(
        TableName=table,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
        ExpressionAttributeValues={":pk": {"S": f"TENANT#{tenant}"}, ":prefix": {"S": "KEY#"}},
    )["Items"]
    count = client.get_item(TableName=table, Key={"PK": {"S": f"TENANT#{tenant}"}, "SK": {"S": "KEY_COUNT"}})
    return len(keys), int(count["Item"]["active"]["N"])


def test_a_key_past_the_tenants_cap_is_a_409_problem_and_writes_nothing(capped: None, mint: MintKey) -> None:
    admin = mint("acme")  # the first of three
    other_tenant = mint("globex")

    created = [_create(admin)["statusCode"] for _ in range(CAP - 1)]
    refused = _create(admin, "one too many")
    elsewhere = _create(other_tenant)

    assert created == [201, 201]
    assert refused["statusCode"] == 409
    assert refused["headers"]["content-type"] == "application/problem+json"
    problem = response_json(refused)
    assert problem["type"] == "urn:infergate:problem:key-limit-reached"
    assert problem["title"] == "Conflict"
    assert problem["detail"] == (
        "This tenant already has its maximum of 3 active API keys; revoke one before creating another."
    )
    assert _stored("acme") == (CAP, CAP)
    listed = response_json(call("GET", "/v1/keys", headers=bearer(admin.secret)))["results"]
    assert "one too many" not in [key["name"] for key in listed]
    assert elsewhere["statusCode"] == 201


def test_revoking_a_key_frees_its_slot(capped: None, mint: MintKey) -> None:
    admin = mint("acme")
    extra = [response_json(_create(admin))["id"] for _ in range(CAP - 1)]
    assert _create(admin)["statusCode"] == 409

    revoked = call("DELETE", f"/v1/keys/{extra[0]}", headers=bearer(admin.secret))
    again = _create(admin)

    assert revoked["statusCode"] == 204
    assert again["statusCode"] == 201
    assert _stored("acme") == (CAP, CAP)
    assert _create(admin)["statusCode"] == 409  # and full again


def test_revoking_a_key_made_before_the_count_existed_frees_no_slot(capped: None, mint: MintKey) -> None:
    """Keys written before the cap carry no ``counted`` mark: they take no slot, so they free none."""
    admin = mint("acme")
    legacy = mint("acme")
    client = dynamodb_client()
    table = settings(StoreSettings).table_name
    key = {"PK": {"S": "TENANT#acme"}, "SK": {"S": f"KEY#{legacy.key_id}"}}
    client.update_item(TableName=table, Key=key, UpdateExpression="REMOVE counted")
    client.update_item(  # as if it had never been counted
        TableName=table,
        Key={"PK": {"S": "TENANT#acme"}, "SK": {"S": "KEY_COUNT"}},
        UpdateExpression="ADD active :minus_one",
        ExpressionAttributeValues={":minus_one": {"N": "-1"}},
    )

    assert call("DELETE", f"/v1/keys/{legacy.key_id}", headers=bearer(admin.secret))["statusCode"] == 204

    assert _stored("acme") == (1, 1)


@pytest.fixture(scope="module", name="emulated_table")
def emulated_table_fixture() -> Iterator[tuple[str, str]]:
    with emulated_table("keys") as endpoint:
        yield endpoint, "keys"


def test_concurrent_creates_never_exceed_the_cap(emulated_table: tuple[str, str]) -> None:
    """Twelve creates at once, each from its own client (a container), against a cap of five."""
    endpoint, table = emulated_table

    def create(number: int) -> bool:
        store = DynamoKeyStore(table, emulator_client(endpoint))
        key = ApiKey(
            new_id(IdKind.KEY), "acme", f"key {number}", frozenset({Scope.PREDICT}), to_rfc3339(utc_now()), "abcd"
        )
        try:
            store.create(key, hash_secret(f"igk_{number:0>40}"), max_active=5)
        except KeyLimitReachedError:
            return False
        return True

    with ThreadPoolExecutor(12) as pool:
        outcomes = list(pool.map(create, range(12)))

    assert outcomes.count(True) == 5
    stored = emulator_client(endpoint).scan(TableName=table)["Items"]
    assert len([item for item in stored if item["SK"]["S"].startswith("KEY#")]) == 5
    assert len([item for item in stored if item["PK"]["S"].startswith("APIKEY#")]) == 5
    [count] = [item for item in stored if item["SK"]["S"] == "KEY_COUNT"]
    assert count["active"]["N"] == "5"
