"""The example batch the committed events in ``events/`` name: its upload (a three-line JSONL file) and
the batch made from it, still validating. Seeded by the sample-event and built-artifact tests."""

import json
from datetime import timedelta
from typing import TYPE_CHECKING

from shared.adapters.dynamodb.batches import DynamoBatchStore
from shared.adapters.dynamodb.uploads import DynamoUploadStore
from shared.kernel.clock import to_rfc3339, utc_now
from shared.uploads.models import Purpose, Upload
from shared.uploads.service import object_key
from tests.support.resources import a_batch

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client

Places = tuple[str, str, "DynamoDBClient", "S3Client"]  # table, bucket and their clients

BATCH_ID = "bat_01JD5YB4W3ZV0B4S8FZ7Q6N9XS"
BATCH_UPLOAD_ID = "upl_01JD5YB4W3ZV0B4S8FZ7Q6N9XT"
BATCH_LINES = [
    {"custom_id": "review-1", "input": {"text": "I love it"}},
    {"custom_id": "review-2", "input": {"text": "Terrible, never again"}},
    {"custom_id": "review-3", "input": {"text": "It is a chair"}},
]
BATCH_FILE = b"".join(json.dumps(line).encode() + b"\n" for line in BATCH_LINES)


def store_upload(
    tenant: str, upload_id: str, purpose: Purpose, content_type: str, data: bytes, places: "Places"
) -> Upload:
    """An upload whose file has arrived: its item, and the object at its key."""
    table, bucket, dynamodb, s3 = places
    now = utc_now()
    upload = Upload(
        id=upload_id,
        tenant=tenant,
        purpose=purpose,
        content_type=content_type,
        size=len(data),
        key=object_key(tenant, upload_id),
        created_at=int(now.timestamp()),
        expires_at=int((now + timedelta(hours=1)).timestamp()),
    )
    DynamoUploadStore(table, dynamodb).create(upload, int(now.timestamp()) + 3600)
    s3.put_object(Bucket=bucket, Key=upload.key, Body=data, ContentType=content_type)
    return upload


def store_batch_upload(tenant: str, table: str, bucket: str, dynamodb: "DynamoDBClient", s3: "S3Client") -> None:
    store_upload(
        tenant, BATCH_UPLOAD_ID, Purpose.BATCH_INPUT, "application/jsonl", BATCH_FILE, (table, bucket, dynamodb, s3)
    )


def store_example_batch(tenant: str, table: str, bucket: str, dynamodb: "DynamoDBClient", s3: "S3Client") -> None:
    store_batch_upload(tenant, table, bucket, dynamodb, s3)
    now = utc_now()
    batch = a_batch(
        id=BATCH_ID,
        tenant=tenant,
        model="sentiment",
        input_upload_id=BATCH_UPLOAD_ID,
        input_key=object_key(tenant, BATCH_UPLOAD_ID),
        created_at=to_rfc3339(now),
        expires_at=int((now + timedelta(days=7)).timestamp()),
    )
    DynamoBatchStore(table, dynamodb).create(batch)
