"""DynamoDB adapter for uploads: ``TENANT#<tenant> / UPLOAD#<id>``, removed by TTL after the retention.

The parts an upload received are a list on its item (``parts``: id and size each) with their running
total (``received``): one conditional ``UpdateItem`` records a part, so concurrent parts can neither pass
the declared size nor the part bound. Items written before the Uploads API (RFC 3339 times, no status,
filename or parts) are read as pending uploads named by their id.
"""

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from shared.adapters.dynamodb.table import call, is_condition_failure, lost_item, tenant_pk
from shared.kernel.clock import from_rfc3339
from shared.uploads.models import Purpose, Upload, UploadChangedError, UploadPart, UploadStatus

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

Item = dict[str, "AttributeValueTypeDef"]

PREFIX = "UPLOAD#"
# Pending: the status written at creation, or none (an item from before the Uploads API).
_PENDING = "(attribute_not_exists(#status) OR #status = :pending)"


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
            "created_at": {"N": str(upload.created_at)},
            "url_expires_at": {"N": str(upload.expires_at)},
            "expires_at": {"N": str(expires_epoch)},
            "filename": {"S": upload.filename},
            "status": {"S": upload.status.value},
            "parts": {"L": []},
            "received": {"N": "0"},
        }
        if upload.file_lifetime is not None:
            item["file_lifetime"] = {"N": str(upload.file_lifetime)}
        call(
            lambda: self._client.put_item(
                TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(PK)"
            )
        )

    def get(self, tenant: str, upload_id: str) -> Upload | None:
        found = call(
            lambda: self._client.get_item(TableName=self._table, Key=_key(tenant, upload_id), ConsistentRead=True)
        )
        item = found.get("Item")
        return _upload(tenant, upload_id, item) if item else None

    def add_part(self, upload: Upload, part: UploadPart, now: int, max_parts: int) -> Upload:
        """Record ``part`` on condition that the upload is pending and not expired, that its parts stay
        within the declared size (the size never changes, so ``received <= size - part``) and under
        ``max_parts``. A lost condition raises ``UploadChangedError`` with the upload as stored."""
        update: dict[str, Any] = {
            "TableName": self._table,
            "Key": _key(upload.tenant, upload.id),
            "UpdateExpression": "SET parts = list_append(if_not_exists(parts, :none), :part), "
            "received = if_not_exists(received, :zero) + :size",
            "ConditionExpression": f"{_PENDING} AND url_expires_at > :now "
            "AND (attribute_not_exists(received) OR received <= :room) "
            "AND (attribute_not_exists(parts) OR size(parts) < :max_parts)",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {
                ":pending": {"S": UploadStatus.PENDING.value},
                ":none": {"L": []},
                ":part": {"L": [{"M": {"id": {"S": part.id}, "size": {"N": str(part.size)}}}]},
                ":zero": {"N": "0"},
                ":size": {"N": str(part.size)},
                ":now": {"N": str(now)},
                ":room": {"N": str(upload.size - part.size)},
                ":max_parts": {"N": str(max_parts)},
            },
        }
        return self._conditional(upload, update)

    def finish(
        self, upload: Upload, status: UploadStatus, file_id: str | None, part_ids: tuple[str, ...] = ()
    ) -> Upload:
        """Move a pending upload to ``status`` (with the file it became and the parts it was made of); a
        lost condition raises ``UploadChangedError`` with the upload as stored."""
        values: Item = {":pending": {"S": UploadStatus.PENDING.value}, ":status": {"S": status.value}}
        expression = "SET #status = :status"
        if file_id is not None:
            expression += ", file_id = :file"
            values[":file"] = {"S": file_id}
        if part_ids:
            expression += ", completed_parts = :parts"
            values[":parts"] = {"L": [{"S": part_id} for part_id in part_ids]}
        update: dict[str, Any] = {
            "TableName": self._table,
            "Key": _key(upload.tenant, upload.id),
            "UpdateExpression": expression,
            "ConditionExpression": f"attribute_exists(PK) AND {_PENDING}",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": values,
        }
        return self._conditional(upload, update)

    def _conditional(self, upload: Upload, update: "dict[str, Any]") -> Upload:
        try:
            written = call(
                lambda: self._client.update_item(
                    **update, ReturnValues="ALL_NEW", ReturnValuesOnConditionCheckFailure="ALL_OLD"
                )
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                current = lost_item(exc)
                raise UploadChangedError(_upload(upload.tenant, upload.id, current) if current else None) from exc
            raise
        return _upload(upload.tenant, upload.id, written["Attributes"])


def _key(tenant: str, upload_id: str) -> Item:
    return {"PK": {"S": tenant_pk(tenant)}, "SK": {"S": f"{PREFIX}{upload_id}"}}


def _seconds(value: "dict[str, Any]") -> int:
    """Unix seconds; an item from before the Uploads API holds RFC 3339 text."""
    return int(value["N"]) if "N" in value else int(from_rfc3339(value["S"]).timestamp())


def _upload(tenant: str, upload_id: str, item: "dict[str, Any]") -> Upload:
    parts = tuple(UploadPart(p["M"]["id"]["S"], int(p["M"]["size"]["N"])) for p in item.get("parts", {}).get("L", []))
    return Upload(
        id=upload_id,
        tenant=tenant,
        purpose=Purpose(item["purpose"]["S"]),
        content_type=item["content_type"]["S"],
        size=int(item["size"]["N"]),
        key=item["object_key"]["S"],
        created_at=_seconds(item["created_at"]),
        expires_at=_seconds(item["url_expires_at"]),
        filename=item.get("filename", {}).get("S") or upload_id,
        status=UploadStatus(item.get("status", {}).get("S", UploadStatus.PENDING.value)),
        parts=parts,
        file_id=item.get("file_id", {}).get("S"),
        file_lifetime=int(item["file_lifetime"]["N"]) if "file_lifetime" in item else None,
        completed_parts=tuple(p["S"] for p in item.get("completed_parts", {}).get("L", [])),
    )
