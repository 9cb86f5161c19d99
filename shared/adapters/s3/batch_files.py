"""S3 adapter for batch files: ranged reads of the input, small result parts, the assembled result files.

Nothing here reads a whole input file: the validator streams from an offset, a chunk worker fetches
its byte range, and the result files are assembled part by part (S3 multipart upload, 8 MiB parts).
"""

from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from shared.adapters.dynamodb.table import error_code
from shared.adapters.s3.objects import MISSING_CODES, s3_faults
from shared.kernel.errors import TransientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

READ_BLOCK = 64 * 1024
PART_SIZE = 8 * 1024 * 1024  # S3 parts are at least 5 MiB, except the last


class S3BatchFiles:
    def __init__(self, bucket: str, client: "S3Client") -> None:
        self._bucket = bucket
        self._client = client

    def stream(self, key: str, start: int) -> Iterator[bytes]:
        """The object from byte ``start`` on, in blocks; stop iterating to stop reading."""
        with s3_faults():
            try:
                response = self._client.get_object(Bucket=self._bucket, Key=key, Range=f"bytes={start}-")
            except ClientError as exc:
                if error_code(exc) == "InvalidRange":  # start is the end of the object
                    return
                raise
        body = response["Body"]
        try:
            yield from body.iter_chunks(READ_BLOCK)
        except BotoCoreError as exc:
            raise TransientError("S3 stopped sending the object") from exc
        finally:
            body.close()

    def read_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes ``start`` to ``end`` (exclusive)."""
        with s3_faults():
            response = self._client.get_object(Bucket=self._bucket, Key=key, Range=f"bytes={start}-{end - 1}")
            return response["Body"].read()

    def get(self, key: str) -> bytes | None:
        with s3_faults():
            try:
                return self._client.get_object(Bucket=self._bucket, Key=key)["Body"].read()
            except ClientError as exc:
                if error_code(exc) in MISSING_CODES:
                    return None
                raise

    def copy(self, source: str, destination: str) -> bool:
        """A server-side copy (one request, objects up to 5 GB); False when there is no ``source``."""
        with s3_faults():
            try:
                self._client.copy_object(
                    Bucket=self._bucket, Key=destination, CopySource={"Bucket": self._bucket, "Key": source}
                )
            except ClientError as exc:
                if error_code(exc) in MISSING_CODES:
                    return False
                raise
        return True

    def put(self, key: str, data: bytes, content_type: str = "application/jsonl") -> None:
        with s3_faults():
            self._client.put_object(Bucket=self._bucket, Key=key, Body=data, ContentType=content_type)

    def concatenate(
        self,
        sources: Iterable[str],
        destination: str,
        content_type: str = "application/jsonl",
        observe: Callable[[bytes], None] | None = None,
    ) -> int:
        """Write the objects ``sources`` (missing ones skipped) one after another to ``destination``,
        holding at most one part in memory, each source's bytes shown to ``observe`` (a checksum) in
        order. Returns the size written."""
        buffer = bytearray()
        parts: list[CompletedPartTypeDef] = []
        upload_id: str | None = None
        size = 0
        with s3_faults():
            try:
                for source in sources:
                    data = self.get(source)
                    if not data:
                        continue
                    if observe is not None:
                        observe(data)
                    buffer += data
                    size += len(data)
                    while len(buffer) >= PART_SIZE:
                        if upload_id is None:
                            started = self._client.create_multipart_upload(
                                Bucket=self._bucket, Key=destination, ContentType=content_type
                            )
                            upload_id = started["UploadId"]
                        parts.append(
                            self._upload_part(destination, upload_id, len(parts) + 1, bytes(buffer[:PART_SIZE]))
                        )
                        del buffer[:PART_SIZE]
                if upload_id is None:
                    self.put(destination, bytes(buffer), content_type)
                    return size
                if buffer:
                    parts.append(self._upload_part(destination, upload_id, len(parts) + 1, bytes(buffer)))
                self._client.complete_multipart_upload(
                    Bucket=self._bucket, Key=destination, UploadId=upload_id, MultipartUpload={"Parts": parts}
                )
            except (ClientError, BotoCoreError):
                self._abort(destination, upload_id)
                raise
        return size

    def presign_get(self, key: str, expires_in: int) -> str:
        return self._client.generate_presigned_url(
            "get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=expires_in
        )

    def _upload_part(self, key: str, upload_id: str, number: int, data: bytes) -> "CompletedPartTypeDef":
        response = self._client.upload_part(
            Bucket=self._bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data
        )
        return {"ETag": response["ETag"], "PartNumber": number}

    def _abort(self, key: str, upload_id: str | None) -> None:
        if upload_id is None:
            return
        with suppress(ClientError, BotoCoreError):  # if this fails too, the bucket's lifecycle rule cleans up
            self._client.abort_multipart_upload(Bucket=self._bucket, Key=key, UploadId=upload_id)
