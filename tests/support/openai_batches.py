"""OpenAI-dialect batches on moto: input files stored as a completed upload stores them, lines, results."""

import json
from typing import Any

import boto3

from shared.adapters.clients import dynamodb_client
from shared.adapters.dynamodb.files import DynamoFileStore
from shared.files.models import FilePurpose, StoredFile
from shared.kernel.ids import IdKind, new_id
from shared.settings import BucketSettings, StoreSettings, settings
from shared.wiring import batch_store
from tests.support.batch_queues import TENANT


def line(custom_id: str, texts: str | list[str], model: str, **body: Any) -> dict[str, Any]:
    return {
        "custom_id": custom_id,
        "method": "POST",
        "url": "/v1/embeddings",
        "body": {"model": model, "input": texts, **body},
    }


def input_file(data: bytes, tenant: str = TENANT) -> str:
    """A file of purpose ``batch``: its bytes under ``uploads/`` and its item, as the files API stores them."""
    file_id = new_id(IdKind.FILE)
    key = f"uploads/{tenant}/{file_id}"
    boto3.client("s3").put_object(Bucket=settings(BucketSettings).bucket_name, Key=key, Body=data)
    stored = StoredFile(file_id, tenant, FilePurpose.BATCH, "batch.jsonl", len(data), key, 1_765_000_000, 1_800_000_000)
    DynamoFileStore(settings(StoreSettings).table_name, dynamodb_client()).put(stored)
    return file_id


def result_files(batch_id: str, tenant: str = TENANT) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The rows of the batch's output and error files (an empty list for a file it does not have)."""
    batch = batch_store().get(tenant, batch_id)
    bucket = settings(BucketSettings).bucket_name

    def rows(key: str | None) -> list[dict[str, Any]]:
        if key is None:
            return []
        body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        return [json.loads(row) for row in body.decode().splitlines()]

    return rows(batch.output_key), rows(batch.errors_key)
