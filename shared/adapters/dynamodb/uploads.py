"""DynamoDB adapter for uploads: ``TENANT#<tenant> / UPLOAD#<id>``, removed by TTL after the retention."""

from typing import TYPE_CHECKING

from shared.adapters.dynamodb.table import call, tenant_pk
from shared.uploads.models import Purpose, Upload

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

Item = dict[str, "AttributeValueTypeDef"]

PREFIX = "UPLOAD#"


class DynamoUploadStore:
    def __init__(self, table_name: str, client: "DynamoDBClient") -> None:
        self._table = table_name
        self._client = client

    def create(self, upload: Upload, expires_epoch: int) -> None:
        item: Item = {
            **_key(upload.tenant, upload.id),
            "purpose": {"S": upload.purpose.value},
            "content_type": {"S": upload.content_type},
            "size": {"N": str(upload.size)},
            "object_key": {"S": upload.key},
            "created_at": {"S": upload.created_at},
            "url_expires_at": {"S": upload.expires_at},
            "expires_at": {"N": str(expires_epoch)},
        }
        call(
            lambda: self._client.put_item(
                TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(PK)"
            )
        )

    def get(self, tenant: str, upload_id: str) -> Upload | None:
        item = call(lambda: self._client.get_item(TableName=self._table, Key=_key(tenant, upload_id))).get("Item")
        if item is None:
            return None
        return Upload(
            id=upload_id,
            tenant=tenant,
            purpose=Purpose(item["purpose"]["S"]),
            content_type=item["content_type"]["S"],
            size=int(item["size"]["N"]),
            key=item["object_key"]["S"],
            created_at=item["created_at"]["S"],
            expires_at=item["url_expires_at"]["S"],
        )


def _key(tenant: str, upload_id: str) -> Item:
    return {"PK": {"S": tenant_pk(tenant)}, "SK": {"S": f"{PREFIX}{upload_id}"}}
