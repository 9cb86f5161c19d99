"""DynamoDB adapter for API keys.

Two items per key, written and deleted together in one transaction:
``TENANT#<tenant> / KEY#<id>`` (listing, holds the hash) and ``APIKEY#<sha256> / APIKEY`` (lookup by
secret, read with a strongly consistent GetItem so revocation takes effect at once).

The same transactions count the tenant's active keys on ``TENANT#<tenant> / KEY_COUNT``: a create adds
one on condition that the count is below the cap, a revocation takes one off. DynamoDB evaluates the
condition and applies all three writes atomically, so concurrent creates can never exceed the cap.
Keys created before the count existed carry no ``counted`` mark: they neither take a slot nor free one.
"""

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from shared.adapters.dynamodb.table import call, is_condition_failure, newest_first_page, tenant_pk
from shared.keys.models import ApiKey, KeyLimitReachedError, KeyNotFoundError, Scope

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, TransactWriteItemTypeDef, UpdateTypeDef

Item = dict[str, "AttributeValueTypeDef"]

PREFIX = "KEY#"
LOOKUP_PREFIX = "APIKEY#"
COUNT_SK = "KEY_COUNT"  # not under PREFIX, so listing never sees it


class DynamoKeyStore:
    def __init__(self, table_name: str, client: "DynamoDBClient") -> None:
        self._table = table_name
        self._client = client

    def create(self, key: ApiKey, secret_hash: str, max_active: int | None = None) -> None:
        fields = _fields(key)
        listing: Item = {
            **_tenant_key(key.tenant, key.id),
            **fields,
            "secret_hash": {"S": secret_hash},
            "counted": {"BOOL": True},
        }
        lookup: Item = {**_lookup_key(secret_hash), **fields, "tenant": {"S": key.tenant}, "key_id": {"S": key.id}}
        condition = "attribute_not_exists(PK)"
        count: UpdateTypeDef = {
            "TableName": self._table,
            "Key": _count_key(key.tenant),
            "UpdateExpression": "SET active = if_not_exists(active, :zero) + :one",
            "ExpressionAttributeValues": {":zero": {"N": "0"}, ":one": {"N": "1"}},
        }
        if max_active is not None:
            count["ConditionExpression"] = "attribute_not_exists(active) OR active < :max"
            count["ExpressionAttributeValues"] = {
                **count["ExpressionAttributeValues"],
                ":max": {"N": str(max_active)},
            }
        try:
            call(
                lambda: self._client.transact_write_items(
                    TransactItems=[
                        {"Put": {"TableName": self._table, "Item": listing, "ConditionExpression": condition}},
                        {"Put": {"TableName": self._table, "Item": lookup, "ConditionExpression": condition}},
                        {"Update": count},
                    ]
                )
            )
        except ClientError as exc:
            reasons = exc.response.get("CancellationReasons", [])
            if max_active is not None and len(reasons) == 3 and reasons[2].get("Code") == "ConditionalCheckFailed":
                raise KeyLimitReachedError(max_active) from exc
            raise

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
                        *_uncount(self._table, tenant, item),
                    ]
                )
            )
        except ClientError as exc:
            if is_condition_failure(exc):  # revoked concurrently
                raise KeyNotFoundError(key_id) from exc
            raise


def _tenant_key(tenant: str, key_id: str) -> Item:
    return {"PK": {"S": tenant_pk(tenant)}, "SK": {"S": PREFIX + key_id}}


def _count_key(tenant: str) -> Item:
    return {"PK": {"S": tenant_pk(tenant)}, "SK": {"S": COUNT_SK}}


def _uncount(table: str, tenant: str, item: Item) -> list["TransactWriteItemTypeDef"]:
    """The revocation's write to the tenant's count: free the key's slot, if it took one."""
    if not item.get("counted", {}).get("BOOL", False):
        return []
    return [
        {
            "Update": {
                "TableName": table,
                "Key": _count_key(tenant),
                "UpdateExpression": "ADD active :minus_one",
                "ExpressionAttributeValues": {":minus_one": {"N": "-1"}},
            }
        }
    ]


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
