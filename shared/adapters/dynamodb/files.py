"""DynamoDB adapter for files: ``TENANT#<tenant> / FILE#<id>``, removed by TTL (``expires_at``) after the
retention, as the bucket's lifecycle rule removes their bytes."""

import builtins
from typing import TYPE_CHECKING, Any

from shared.adapters.dynamodb.table import call, tenant_pk
from shared.files.models import FilePurpose, StoredFile

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

Item = dict[str, "AttributeValueTypeDef"]

PREFIX = "FILE#"


class DynamoFileStore:
    def __init__(self, table_name: str, client: "DynamoDBClient") -> None:
        self._table = table_name
        self._client = client

    def put(self, file: StoredFile) -> None:
        """Write the file's item; the same id again replaces it with the same content (idempotent writers)."""
        item: Item = {
            **_key(file.tenant, file.id),
            "kind": {"S": "file"},
            "purpose": {"S": file.purpose.value},
            "filename": {"S": file.filename},
            "size": {"N": str(file.size)},
            "object_key": {"S": file.key},
            "created_at": {"N": str(file.created_at)},
            "expires_at": {"N": str(file.expires_at)},
        }
        call(lambda: self._client.put_item(TableName=self._table, Item=item))

    def get(self, tenant: str, file_id: str) -> StoredFile | None:
        response = call(
            lambda: self._client.get_item(TableName=self._table, Key=_key(tenant, file_id), ConsistentRead=True)
        )
        item = response.get("Item")
        return None if item is None else _from_item(item)

    def list(
        self, tenant: str, limit: int, after: str | None, purpose: FilePurpose | None, newest_first: bool
    ) -> tuple["builtins.list[StoredFile]", bool]:
        """Up to ``limit`` files after ``after``, in id order (newest first if asked), of ``purpose`` if given."""
        found: builtins.list[StoredFile] = []
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": tenant_pk(tenant)}, ":prefix": {"S": PREFIX}},
            "ScanIndexForward": not newest_first,
        }
        if purpose is not None:
            query["FilterExpression"] = "purpose = :purpose"
            query["ExpressionAttributeValues"][":purpose"] = {"S": purpose.value}
        if after is not None:
            query["ExclusiveStartKey"] = _key(tenant, after)
        while True:
            response = call(lambda: self._client.query(**query))
            found += [_from_item(item) for item in response.get("Items", [])]
            if len(found) > limit or "LastEvaluatedKey" not in response:
                return found[:limit], len(found) > limit
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def delete(self, tenant: str, file_id: str) -> StoredFile | None:
        response = call(
            lambda: self._client.delete_item(TableName=self._table, Key=_key(tenant, file_id), ReturnValues="ALL_OLD")
        )
        item = response.get("Attributes")
        return None if item is None else _from_item(item)


def _key(tenant: str, file_id: str) -> Item:
    return {"PK": {"S": tenant_pk(tenant)}, "SK": {"S": PREFIX + file_id}}


def _from_item(item: Item) -> StoredFile:
    return StoredFile(
        id=item["SK"]["S"].removeprefix(PREFIX),
        tenant=item["PK"]["S"].removeprefix("TENANT#"),
        purpose=FilePurpose(item["purpose"]["S"]),
        filename=item["filename"]["S"],
        size=int(item["size"]["N"]),
        key=item["object_key"]["S"],
        created_at=int(item["created_at"]["N"]),
        expires_at=int(item["expires_at"]["N"]),
    )
