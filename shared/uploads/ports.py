"""What the upload service needs from storage (adapters and test fakes implement these)."""

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import BinaryIO, Protocol

from shared.uploads.models import PresignedPut, StoredObject, Upload, UploadPart, UploadStatus


class UploadStore(Protocol):
    def create(self, upload: Upload, expires_epoch: int) -> None: ...

    def get(self, tenant: str, upload_id: str) -> Upload | None: ...

    def add_part(self, upload: Upload, part: UploadPart, now: int, max_parts: int) -> Upload:
        """Record the part if the upload is pending, not expired at ``now``, its parts stay within its size
        and under ``max_parts``; else ``UploadChangedError`` with the upload as stored."""
        ...

    def finish(
        self, upload: Upload, status: UploadStatus, file_id: str | None, part_ids: tuple[str, ...] = ()
    ) -> Upload:
        """Move a pending upload to ``status`` (completed: with its file and the parts it was made of, in
        order); else ``UploadChangedError`` with the upload as stored."""
        ...


class ObjectStore(Protocol):
    def presign_put(self, key: str, content_type: str, size: int, expires_in: int) -> PresignedPut:
        """A URL that accepts exactly one PUT of ``size`` bytes of ``content_type`` until it expires."""
        ...

    def head(self, key: str) -> StoredObject | None:
        """None when nothing was uploaded under ``key``."""
        ...

    def put(self, key: str, body: BinaryIO, content_type: str) -> None:
        """Write ``body`` (read to its end, never whole into memory) as the object ``key``."""
        ...

    def delete(self, keys: Sequence[str]) -> None:
        """Remove the objects (missing ones are no error)."""
        ...


class Assembler(Protocol):
    """Reads an object as a stream, and writes objects one after another into one."""

    def stream(self, key: str, start: int) -> Iterator[bytes]:
        """The object from byte ``start`` on, in blocks."""
        ...

    def concatenate(
        self,
        sources: Iterable[str],
        destination: str,
        content_type: str = "application/jsonl",
        observe: Callable[[bytes], None] | None = None,
    ) -> int:
        """Write ``sources`` one after another to ``destination`` without holding the file in memory, showing
        each source's bytes to ``observe``; the size written."""
        ...
