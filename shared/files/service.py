"""Use cases of files: store one sent whole, describe, list, hand out its bytes, delete; and check a
file a request names (the batches use ``ready_for``)."""

from datetime import timedelta
from typing import BinaryIO

from shared.files.models import (
    MAX_EXPIRES_AFTER_SECONDS,
    MIN_EXPIRES_AFTER_SECONDS,
    FilePurpose,
    InvalidFileError,
    NoSuchFileError,
    StoredFile,
    UnusableFileError,
    filename_problem,
)
from shared.files.ports import FileObjects, FileStore
from shared.kernel.clock import utc_now
from shared.kernel.ids import IdKind, is_valid_id, new_id
from shared.kernel.observability import logger

MAX_LIST_LIMIT = 100
# The content route answers a redirect its client follows at once: the URL needs to live only minutes.
CONTENT_URL_SECONDS = 300


def file_key(tenant: str, file_id: str) -> str:
    return f"uploads/{tenant}/{file_id}"


def file_expiry(created_at: int, retention: timedelta, expires_after: int | None) -> int:
    """When a file created at ``created_at`` ends: after ``expires_after`` seconds if asked (OpenAI's bounds,
    an hour to 30 days), never later than the retention."""
    if expires_after is not None and not MIN_EXPIRES_AFTER_SECONDS <= expires_after <= MAX_EXPIRES_AFTER_SECONDS:
        raise InvalidFileError(
            "/expires_after",
            f"expires_after.seconds is {MIN_EXPIRES_AFTER_SECONDS} to {MAX_EXPIRES_AFTER_SECONDS} seconds.",
        )
    retained = int(retention.total_seconds())
    return created_at + min(expires_after or retained, retained)


class FileService:
    def __init__(self, store: FileStore, objects: FileObjects, retention: timedelta) -> None:
        self._store = store
        self._objects = objects
        self._retention = retention

    def create(
        self, tenant: str, purpose: str, filename: str, body: BinaryIO, size: int, expires_after: int | None = None
    ) -> StoredFile:
        """Store a file sent whole: only ``batch`` files are sent (``batch_output`` ones a batch writes).
        The bytes go to the bucket first, then the item: a file that is listed always has its bytes."""
        if purpose != FilePurpose.BATCH.value:
            raise InvalidFileError("/purpose", f"purpose must be 'batch', not {purpose[:40]!r}.")
        problem = filename_problem(filename)
        if problem is not None:
            raise InvalidFileError("/file", problem)
        if size == 0:
            raise InvalidFileError("/file", "The file is empty.")
        created = int(utc_now().timestamp())
        expires = file_expiry(created, self._retention, expires_after)
        file_id = new_id(IdKind.FILE)
        key = file_key(tenant, file_id)
        self._objects.put(key, body, "application/jsonl")
        stored = StoredFile(file_id, tenant, FilePurpose.BATCH, filename, size, key, created, expires)
        self._store.put(stored)
        logger.info("file created", extra={"file_id": file_id, "size": size})
        return stored

    def get(self, tenant: str, file_id: str) -> StoredFile:
        """The tenant's file (another tenant's, a malformed id or an expired file: ``NoSuchFileError``)."""
        found = self._store.get(tenant, file_id) if is_valid_id(IdKind.FILE, file_id) else None
        if found is None or found.expires_at <= int(utc_now().timestamp()):  # TTL deletes lazily
            raise NoSuchFileError(file_id[:64])
        return found

    def list(
        self, tenant: str, limit: int, after: str | None, purpose: FilePurpose | None, newest_first: bool
    ) -> tuple[list[StoredFile], bool]:
        if after is not None and not is_valid_id(IdKind.FILE, after):
            raise InvalidFileError("#/query/after", "after must be a file id (file_...).")
        return self._store.list(tenant, min(limit, MAX_LIST_LIMIT), after, purpose, newest_first)

    def content_url(self, tenant: str, file_id: str) -> str:
        """A presigned GET of the file's bytes: a function cannot answer a body over 6 MB."""
        return self._objects.presign_get(self.get(tenant, file_id).key, CONTENT_URL_SECONDS)

    def delete(self, tenant: str, file_id: str) -> StoredFile:
        """Remove the item, then the bytes (if that fails, the bucket's lifecycle rule removes them)."""
        self.get(tenant, file_id)
        deleted = self._store.delete(tenant, file_id)
        if deleted is None:
            raise NoSuchFileError(file_id)
        self._objects.delete([deleted.key])
        logger.info("file deleted", extra={"file_id": file_id})
        return deleted

    def ready_for(self, tenant: str, file_id: str, purpose: FilePurpose, pointer: str) -> StoredFile:
        """The file, if the tenant has it and it was made for ``purpose``; else 422 at ``pointer``."""
        try:
            found = self.get(tenant, file_id)
        except NoSuchFileError:
            raise UnusableFileError(pointer, f"No such File object: {file_id[:64]}") from None
        if found.purpose is not purpose:
            raise UnusableFileError(pointer, f"The file's purpose is {found.purpose.value}, not {purpose.value}.")
        return found
