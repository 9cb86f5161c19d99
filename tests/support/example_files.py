"""What the committed file and upload events (events/*_file*.json, *_upload_*.json) refer to, seeded as
the routes store it: the example file, a pending batch upload, and one holding a part."""

from typing import TYPE_CHECKING

from shared.adapters.dynamodb.files import DynamoFileStore
from shared.adapters.dynamodb.uploads import DynamoUploadStore
from shared.files.models import FilePurpose, StoredFile
from shared.kernel.clock import utc_now
from shared.uploads.models import Purpose, Upload, UploadPart
from shared.uploads.service import object_key, part_key

if TYPE_CHECKING:
    from tests.support.example_batch import Places

EXAMPLE_FILE_ID = "file_01JD5YB4W3ZV0B4S8FZ7Q6N9XF"
PENDING_UPLOAD_ID = "upl_01JD5YB4W3ZV0B4S8FZ7Q6N9XR"  # the parts and cancel events
PARTED_UPLOAD_ID = "upl_01JD5YB4W3ZV0B4S8FZ7Q6N9XS"  # the complete event
PART_ID = "part_01JD5YB4W3ZV0B4S8FZ7Q6N9XP"
EXAMPLE_LINES = (
    b'{"custom_id": "a", "input": {"text": "I love it"}}\n{"custom_id": "b", "input": {"text": "Not great"}}\n'
)


def store_example_file(tenant: str, places: "Places") -> StoredFile:
    table, bucket, dynamodb, s3 = places
    key = f"uploads/{tenant}/{EXAMPLE_FILE_ID}"
    s3.put_object(Bucket=bucket, Key=key, Body=EXAMPLE_LINES)
    now = int(utc_now().timestamp())
    stored = StoredFile(
        EXAMPLE_FILE_ID, tenant, FilePurpose.BATCH, "sentiment.jsonl", len(EXAMPLE_LINES), key, now, now + 3600
    )
    DynamoFileStore(table, dynamodb).put(stored)
    return stored


def store_batch_upload_in_parts(tenant: str, upload_id: str, with_part: bool, places: "Places") -> Upload:
    """A pending OpenAI batch upload of the example lines, holding them as one part if ``with_part``."""
    table, bucket, dynamodb, s3 = places
    now = int(utc_now().timestamp())
    upload = Upload(
        upload_id,
        tenant,
        Purpose.BATCH_INPUT,
        "application/jsonl",
        len(EXAMPLE_LINES),
        object_key(tenant, upload_id),
        now,
        now + 3600,
        filename="sentiment.jsonl",
    )
    store = DynamoUploadStore(table, dynamodb)
    store.create(upload, now + 86_400)
    if with_part:
        s3.put_object(Bucket=bucket, Key=part_key(upload, PART_ID), Body=EXAMPLE_LINES)
        store.add_part(upload, UploadPart(PART_ID, len(EXAMPLE_LINES)), now, 1000)
    return upload


def store_example_files(tenant: str, places: "Places") -> None:
    """Everything the file and upload events name."""
    store_example_file(tenant, places)
    store_batch_upload_in_parts(tenant, PENDING_UPLOAD_ID, False, places)
    store_batch_upload_in_parts(tenant, PARTED_UPLOAD_ID, True, places)
