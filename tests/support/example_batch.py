"""The example batch the committed events in ``events/`` name: its upload (a three-line JSONL file) and
the batch made from it, still validating. Seeded by the sample-event and built-artifact tests."""

import json
from datetime import timedelta
from typing import TYPE_CHECKING

from shared.batches.models import Batch, BatchStatus
from shared.clock import to_rfc3339, utc_now
from shared.store.batches import DynamoBatchStore
from shared.store.uploads import DynamoUploadStore
from shared.uploads.models import Purpose, Upload
from shared.uploads.service import object_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client

BATCH_ID = "bat_01JD5YB4W3ZV0B4S8FZ7Q6N9XS"
BATCH_UPLOAD_ID = "upl_01JD5YB4W3ZV0B4S8FZ7Q6N9XT"
BATCH_LINES = [
    {"custom_id": "review-1", "input": {"text": "I love it"}},
    {"custom_id": "review-2", "input": {"text": "Terrible, never again"}},
    {"custom_id": "review-3", "input": {"text": "It is a chair"}},
]
BATCH_FILE = b"".join(json.dumps(line).encode() + b"\n" for line in BATCH_LINES)


def store_batch_upload(tenant: str, table: str, bucket: str, dynamodb: "DynamoDBClient", s3: "S3Client") -> None:
    now = utc_now()
    upload = Upload(
        id=BATCH_UPLOAD_ID,
        tenant=tenant,
        purpose=Purpose.BATCH_INPUT,
        content_type="application/jsonl",
        size=len(BATCH_FILE),
        key=object_key(tenant, BATCH_UPLOAD_ID),
        created_at=to_rfc3339(now),
        expires_at=to_rfc3339(now + timedelta(hours=1)),
    )
    DynamoUploadStore(table, dynamodb).create(upload, int(now.timestamp()) + 3600)
    s3.put_object(Bucket=bucket, Key=upload.key, Body=BATCH_FILE, ContentType=upload.content_type)


def store_example_batch(tenant: str, table: str, bucket: str, dynamodb: "DynamoDBClient", s3: "S3Client") -> None:
    store_batch_upload(tenant, table, bucket, dynamodb, s3)
    now = utc_now()
    batch = Batch(
        id=BATCH_ID,
        tenant=tenant,
        model="sentiment",
        version=1,
        status=BatchStatus.VALIDATING,
        input_upload_id=BATCH_UPLOAD_ID,
        input_key=object_key(tenant, BATCH_UPLOAD_ID),
        created_at=to_rfc3339(now),
        expires_at=int((now + timedelta(days=7)).timestamp()),
    )
    DynamoBatchStore(table, dynamodb).create(batch)
