"""What the upload service needs from storage (adapters and test fakes implement these)."""

from typing import Protocol

from shared.uploads.models import PresignedPut, StoredObject, Upload


class UploadStore(Protocol):
    def create(self, upload: Upload, expires_epoch: int) -> None: ...

    def get(self, tenant: str, upload_id: str) -> Upload | None: ...


class ObjectStore(Protocol):
    def presign_put(self, key: str, content_type: str, size: int, expires_in: int) -> PresignedPut:
        """A URL that accepts exactly one PUT of ``size`` bytes of ``content_type`` until it expires."""
        ...

    def head(self, key: str) -> StoredObject | None:
        """None when nothing was uploaded under ``key``."""
        ...
