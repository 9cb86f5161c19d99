"""S3 adapter: presigned PUTs, object metadata, and reading or writing whole objects."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from botocore.exceptions import BotoCoreError, ClientError

from shared.adapters.clients import s3_transfer_config
from shared.adapters.dynamodb.table import error_code
from shared.kernel.errors import TransientError
from shared.uploads.models import PresignedPut, StoredObject

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

_TRANSIENT = frozenset({"SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout", "503", "500"})
MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})


class S3ObjectStore:
    def __init__(self, bucket: str, client: "S3Client") -> None:
        self._bucket = bucket
        self._client = client

    def presign_put(self, key: str, content_type: str, size: int, expires_in: int) -> PresignedPut:
        # Content-Type and Content-Length are signed: S3 refuses a PUT of another type or size.
        url = self._client.generate_presigned_url(
            "put_object",
            Params={"Bucket": self._bucket, "Key": key, "ContentType": content_type, "ContentLength": size},
            ExpiresIn=expires_in,
            HttpMethod="PUT",
        )
        return PresignedPut(url=url, headers={"Content-Type": content_type, "Content-Length": str(size)})

    def head(self, key: str) -> StoredObject | None:
        with s3_faults():
            try:
                response = self._client.head_object(Bucket=self._bucket, Key=key)
            except ClientError as exc:
                if error_code(exc) in MISSING_CODES:
                    return None
                raise
        return StoredObject(size=int(response["ContentLength"]), content_type=response.get("ContentType", ""))

    def put(self, key: str, body: BinaryIO, content_type: str) -> None:
        """One PUT streamed from ``body`` (a file sent whole is at most a request body, a few MB)."""
        with s3_faults():
            self._client.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType=content_type)

    def presign_get(self, key: str, expires_in: int) -> str:
        return self._client.generate_presigned_url(
            "get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=expires_in
        )

    def delete(self, keys: Sequence[str]) -> None:
        """One DeleteObjects per 1,000 keys; S3 answers a missing key as deleted."""
        with s3_faults():
            for start in range(0, len(keys), 1000):
                batch: list[ObjectIdentifierTypeDef] = [{"Key": key} for key in keys[start : start + 1000]]
                self._client.delete_objects(Bucket=self._bucket, Delete={"Objects": batch, "Quiet": True})

    def download(self, key: str, destination: Path) -> None:
        with s3_faults():
            self._client.download_file(self._bucket, key, str(destination), Config=s3_transfer_config())

    def upload(self, source: Path, key: str, content_type: str) -> None:
        with s3_faults(), source.open("rb") as body:  # one PUT (up to 5 GB; artifacts are at most 100 MiB)
            self._client.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType=content_type)


@contextmanager
def s3_faults() -> Iterator[None]:
    """Around S3 calls: throttling, S3's own faults and an unreachable S3 become ``TransientError``;
    any other ``ClientError`` goes on as it is."""
    try:
        yield
    except ClientError as exc:
        raise s3_error(exc) from exc
    except BotoCoreError as exc:
        raise TransientError("S3 could not be reached") from exc


def s3_error(exc: ClientError) -> Exception:
    """Throttling and S3's own faults become ``TransientError``; anything else stays as it is."""
    if error_code(exc) in _TRANSIENT:
        return TransientError(f"S3 is unavailable ({error_code(exc)})")
    return exc
