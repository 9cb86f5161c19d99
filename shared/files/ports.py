"""What the files use cases need from storage (adapters and test fakes implement these)."""

from typing import Protocol

from shared.files.models import FilePurpose, StoredFile


class FileStore(Protocol):
    def put(self, file: StoredFile) -> None:
        """Write the file's item; writing the same id again replaces it (its writers are idempotent)."""
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
