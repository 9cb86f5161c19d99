"""DynamoDB adapter for API keys.

Two items per key, written and deleted together in one transaction:
``TENANT#<tenant> / KEY#<id>`` (listing, holds the hash) and ``APIKEY#<sha256> / APIKEY`` (lookup by
secret, read with a strongly consistent GetItem so revocation takes effect at once).
"""

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from shared.keys.models import ApiKey, KeyNotFoundError, Scope
from shared.store.dynamo import call, is_condition_failure, newest_first_page, tenant_pk

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

Item = dict[str, "AttributeValueTypeDef"]

PREFIX = "KEY#"
LOOKUP_PREFIX = "APIKEY#"


class DynamoKeyStore:
    def __init__(self, table_name: str, client: "DynamoDBClient") -> None:
        self._table = table_name
        self._client = client

    def create(self, key: ApiKey, secret_hash: str) -> None:
        fields = _fields(key)
        listing: Item = {**_tenant_key(key.tenant, key.id), **fields, "secret_hash": {"S": secret_hash}}
        lookup: Item = {**_lookup_key(secret_hash), **fields, "tenant": {"S": key.tenant}, "key_id": {"S": key.id}}
        condition = "attribute_not_exists(PK)"
        call(
            lambda: self._client.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": self._table, "Item": listing, "ConditionExpression": condition}},
                    {"Put": {"TableName": self._table, "Item": lookup, "ConditionExpression": condition}},
                ]
            )
        )

    def find_by_hash(self, secret_hash: str) -> ApiKey | None:
        response = call(
            lambda: self._client.get_item(TableName=self._table, Key=_lookup_key(secret_hash), ConsistentRead=True)
        )
        item = response.get("Item")
        if item is None:
            return None
        return _from_item(item, tenant=item["tenant"]["S"], key_id=item["key_id"]["S"])

    def list(self, tenant: str, limit: int, after: str | None) -> tuple[list[ApiKey], str | None]:
        def parse(item: Item) -> ApiKey:
            return _from_item(item, tenant, item["SK"]["S"].removeprefix(PREFIX))

        return newest_first_page(self._client, self._table, tenant, PREFIX, limit, after, parse)

    def delete(self, tenant: str, key_id: str) -> None:
        response = call(
            lambda: self._client.get_item(TableName=self._table, Key=_tenant_key(tenant, key_id), ConsistentRead=True)
        )
        item = response.get("Item")
        if item is None:
            raise KeyNotFoundError(key_id)
        condition = "attribute_exists(PK)"
        try:
            call(
                lambda: self._client.transact_write_items(
                    TransactItems=[
                        {
                            "Delete": {
                                "TableName": self._table,
                                "Key": _tenant_key(tenant, key_id),
                                "ConditionExpression": condition,
                            }
                        },
                        {"Delete": {"TableName": self._table, "Key": _lookup_key(item["secret_hash"]["S"])}},
                    ]
                )
            )
        except ClientError as exc:
            if is_condition_failure(exc):  # revoked concurrently
                raise KeyNotFoundError(key_id) from exc
            raise


def _tenant_key(tenant: str, key_id: str) -> Item:
    return {"PK": {"S": tenant_pk(tenant)}, "SK": {"S": PREFIX + key_id}}


def _lookup_key(secret_hash: str) -> Item:
    return {"PK": {"S": LOOKUP_PREFIX + secret_hash}, "SK": {"S": "APIKEY"}}


def _fields(key: ApiKey) -> Item:
    return {
        "kind": {"S": "api_key"},
        "name": {"S": key.name},
        "scopes": {"SS": sorted(scope.value for scope in key.scopes)},
        "created_at": {"S": key.created_at},
        "last4": {"S": key.last4},
    }


def _from_item(item: Item, tenant: str, key_id: str) -> ApiKey:
    return ApiKey(
        id=key_id,
        tenant=tenant,
        name=item["name"]["S"],
        scopes=frozenset(Scope(scope) for scope in item["scopes"]["SS"]),
        created_at=item["created_at"]["S"],
        last4=item["last4"]["S"],
    )
