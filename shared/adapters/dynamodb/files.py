"""DynamoDB adapter for files: ``TENANT#<tenant> / FILE#<id>``, removed by TTL (``expires_at``) after the retention."""

from functools import partial
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
        item: Item = {
            **_key(file.tenant, file.id),
            "purpose": {"S": file.purpose.value},
            "filename": {"S": file.filename},
            "size": {"N": str(file.size)},
            "object_key": {"S": file.key},
            "created_at": {"N": str(file.created_at)},
            "expires_at": {"N": str(file.expires_at)},
        }
        call(lambda: self._client.put_item(TableName=self._table, Item=item))

    def get(self, tenant: str, file_id: str) -> StoredFile | None:
        item = call(lambda: self._client.get_item(TableName=self._table, Key=_key(tenant, file_id))).get("Item")
        return None if item is None else _file(tenant, item)

    def list(
        self, tenant: str, limit: int, after: str | None, purpose: FilePurpose | None, newest_first: bool
    ) -> tuple[list[StoredFile], bool]:
        found: list[StoredFile] = []
        start: dict[str, Any] | None = _key(tenant, after) if after else None
        while True:
            query: dict[str, Any] = {
                "TableName": self._table,
                "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
                "ExpressionAttributeValues": {":pk": {"S": tenant_pk(tenant)}, ":prefix": {"S": PREFIX}},
                "ScanIndexForward": not newest_first,
            }
            if start is not None:
                query["ExclusiveStartKey"] = start
            page = call(partial(self._client.query, **query))
            for item in page.get("Items", []):
                stored = _file(tenant, item)
                if purpose is None or stored.purpose is purpose:
                    found.append(stored)
            start = page.get("LastEvaluatedKey")
            if start is None or len(found) > limit:
                return found[:limit], len(found) > limit or start is not None

    def delete(self, tenant: str, file_id: str) -> StoredFile | None:
        response = call(
            lambda: self._client.delete_item(TableName=self._table, Key=_key(tenant, file_id), ReturnValues="ALL_OLD")
        )
        item = response.get("Attributes")
        return None if item is None else _file(tenant, item)


def _key(tenant: str, file_id: str) -> Item:
    return {"PK": {"S": tenant_pk(tenant)}, "SK": {"S": f"{PREFIX}{file_id}"}}


def _file(tenant: str, item: dict[str, Any]) -> StoredFile:
    return StoredFile(
        id=item["SK"]["S"].removeprefix(PREFIX),
        tenant=tenant,
        purpose=FilePurpose(item["purpose"]["S"]),
        filename=item["filename"]["S"],
        size=int(item["size"]["N"]),
        key=item["object_key"]["S"],
        created_at=int(item["created_at"]["N"]),
        expires_at=int(item["expires_at"]["N"]),
    )
