"""What the files use cases need from storage (adapters and test fakes implement these)."""

from collections.abc import Sequence
from typing import BinaryIO, Protocol

from shared.files.models import FilePurpose, StoredFile


class FileStore(Protocol):
    def put(self, file: StoredFile) -> None:
        """Write the file's item; writing the same id again replaces it (its writers are idempotent)."""
        ...

    def create(self, file: StoredFile) -> bool:
        """Write the file's item unless one with its id exists (False then: another writer got there first)."""
        ...

    def get(self, tenant: str, file_id: str) -> StoredFile | None: ...

    def list(
        self, tenant: str, limit: int, after: str | None, purpose: FilePurpose | None, newest_first: bool
    ) -> tuple[list[StoredFile], bool]:
        """Up to ``limit`` files after the file ``after`` in the order asked, and whether more follow."""
        ...

    def delete(self, tenant: str, file_id: str) -> StoredFile | None:
        """Remove the item; the file it was, or None if there was none."""
        ...


class FileObjects(Protocol):
    """The bytes of files, in the bucket."""

    def put(self, key: str, body: BinaryIO, content_type: str) -> None:
        """Write ``body`` (read to its end, never whole into memory) as the object ``key``."""
        ...

    def presign_get(self, key: str, expires_in: int) -> str:
        """A URL that answers a GET of the object until it expires."""
        ...

    def delete(self, keys: Sequence[str]) -> None:
        """Remove the objects (missing ones are no error)."""
        ...
