"""DynamoDB adapter for files: ``TENANT#<tenant> / FILE#<id>``, removed by TTL at ``expires_at``."""

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from shared.adapters.dynamodb.table import call, is_condition_failure, tenant_pk
from shared.files.models import FilePurpose, StoredFile
from shared.kernel.clock import utc_now

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
        item = _item(file)
        call(lambda: self._client.put_item(TableName=self._table, Item=item))

    def create(self, file: StoredFile) -> bool:
        item = _item(file)
        try:
            call(
                lambda: self._client.put_item(
                    TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(PK)"
                )
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    def get(self, tenant: str, file_id: str) -> StoredFile | None:
        found = call(
            lambda: self._client.get_item(TableName=self._table, Key=_key(tenant, file_id), ConsistentRead=True)
        )
        item = found.get("Item")
        return _file(tenant, item) if item else None

    def list(
        self, tenant: str, limit: int, after: str | None, purpose: FilePurpose | None, newest_first: bool
    ) -> tuple[list[StoredFile], bool]:
        """Pages of the tenant's files in id (so creation) order, filtered on the purpose and on expiry (TTL
        deletes lazily); asks for ``limit + 1`` to know whether more follow."""
        names = {"#expires": "expires_at"}
        values: Item = {
            ":pk": {"S": tenant_pk(tenant)},
            ":prefix": {"S": PREFIX},
            ":now": {"N": str(int(utc_now().timestamp()))},
        }
        filters = ["#expires > :now"]
        if purpose is not None:
            names["#purpose"] = "purpose"
            values[":purpose"] = {"S": purpose.value}
            filters.append("#purpose = :purpose")
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "FilterExpression": " AND ".join(filters),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": not newest_first,
            "Limit": limit + 1,
        }
        if after is not None:
            request["ExclusiveStartKey"] = _key(tenant, after)
        found: list[StoredFile] = []
        while len(found) <= limit:
            page = call(lambda: self._client.query(**request))
            found.extend(_file(tenant, item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return found[:limit], len(found) > limit

    def delete(self, tenant: str, file_id: str) -> StoredFile | None:
        removed = call(
            lambda: self._client.delete_item(TableName=self._table, Key=_key(tenant, file_id), ReturnValues="ALL_OLD")
        )
        item = removed.get("Attributes")
        return _file(tenant, item) if item else None


def _key(tenant: str, file_id: str) -> Item:
    return {"PK": {"S": tenant_pk(tenant)}, "SK": {"S": f"{PREFIX}{file_id}"}}


def _file(tenant: str, item: "dict[str, Any]") -> StoredFile:
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


def _item(file: StoredFile) -> Item:
    return {
        **_key(file.tenant, file.id),
        "purpose": {"S": file.purpose.value},
        "filename": {"S": file.filename},
        "size": {"N": str(file.size)},
        "object_key": {"S": file.key},
        "created_at": {"N": str(file.created_at)},
        "expires_at": {"N": str(file.expires_at)},
    }
