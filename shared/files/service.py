"""Use cases of files that other features need: check a file before a request uses it."""

from shared.files.models import FilePurpose, StoredFile, UnusableFileError
from shared.files.ports import FileStore
from shared.kernel.ids import IdKind, is_valid_id


class FileService:
    def __init__(self, store: FileStore) -> None:
        self._store = store

    def ready_for(self, tenant: str, file_id: str, purpose: FilePurpose, pointer: str) -> StoredFile:
        """The tenant's file, if it was sent for ``purpose``; else ``UnusableFileError`` at ``pointer``."""
        found = self._store.get(tenant, file_id) if is_valid_id(IdKind.FILE, file_id) else None
        if found is None:
            raise UnusableFileError(pointer, "There is no such file.")
        if found.purpose is not purpose:
            raise UnusableFileError(pointer, f"The file's purpose is {found.purpose.value}, not {purpose.value}.")
        return found
