"""Use cases of uploads: hand out a presigned PUT, and check an upload before a request uses it."""

from datetime import timedelta

from shared.kernel.clock import to_rfc3339, utc_now
from shared.kernel.ids import IdKind, is_valid_id, new_id
from shared.kernel.observability import logger
from shared.keys.models import Caller, PermissionDeniedError, grants
from shared.uploads.models import (
    CONTENT_TYPES,
    MAX_SIZE,
    SCOPE_NEEDED,
    PresignedPut,
    Purpose,
    UnusableUploadError,
    Upload,
    UploadNotFoundError,
)
from shared.uploads.ports import ObjectStore, UploadStore


def object_key(tenant: str, upload_id: str) -> str:
    return f"uploads/{tenant}/{upload_id}"


class UploadService:
    def __init__(self, store: UploadStore, objects: ObjectStore, url_lifetime: timedelta, retention: timedelta) -> None:
        self._store = store
        self._objects = objects
        self._url_lifetime = url_lifetime
        self._retention = retention

    def create(self, caller: Caller, purpose: Purpose, content_type: str, size: int) -> tuple[Upload, PresignedPut]:
        """Validate the declared file (403 without the purpose's scope, 422 on a type or size the purpose
        refuses) and presign its PUT."""
        if not grants(caller.scopes, SCOPE_NEEDED[purpose]):
            raise PermissionDeniedError(SCOPE_NEEDED[purpose])
        tenant = caller.tenant
        if content_type not in CONTENT_TYPES[purpose]:
            allowed = ", ".join(sorted(CONTENT_TYPES[purpose]))
            raise UnusableUploadError("/content_type", f"A {purpose.value} upload must be one of: {allowed}.")
        if size > MAX_SIZE[purpose]:
            raise UnusableUploadError("/size", f"A {purpose.value} upload is at most {MAX_SIZE[purpose]} bytes.")
        now = utc_now()
        upload_id = new_id(IdKind.UPLOAD)
        upload = Upload(
            id=upload_id,
            tenant=tenant,
            purpose=purpose,
            content_type=content_type,
            size=size,
            key=object_key(tenant, upload_id),
            created_at=to_rfc3339(now),
            expires_at=to_rfc3339(now + self._url_lifetime),
        )
        presigned = self._objects.presign_put(upload.key, content_type, size, int(self._url_lifetime.total_seconds()))
        self._store.create(upload, int((now + self._retention).timestamp()))
        logger.info("upload created", extra={"upload_id": upload_id, "purpose": purpose.value, "size": size})
        return upload, presigned

    def get(self, tenant: str, upload_id: str) -> Upload:
        upload = self._store.get(tenant, upload_id) if is_valid_id(IdKind.UPLOAD, upload_id) else None
        if upload is None:
            raise UploadNotFoundError()
        return upload

    def ready_for(self, tenant: str, upload_id: str, purpose: Purpose, pointer: str) -> Upload:
        """The upload, if it was made for ``purpose`` and its file arrived whole; else 422 at ``pointer``."""
        try:
            upload = self.get(tenant, upload_id)
        except UploadNotFoundError:
            raise UnusableUploadError(pointer, "There is no such upload.") from None
        if upload.purpose is not purpose:
            raise UnusableUploadError(pointer, f"The upload is for {upload.purpose.value}, not {purpose.value}.")
        stored = self._objects.head(upload.key)
        if stored is None:
            raise UnusableUploadError(pointer, "Nothing has been uploaded yet: PUT the file to the upload's URL.")
        if stored.size != upload.size:
            raise UnusableUploadError(
                pointer, f"The uploaded file is {stored.size} bytes; the upload declared {upload.size}."
            )
        if stored.content_type.split(";")[0].strip().lower() != upload.content_type:
            raise UnusableUploadError(pointer, f"The uploaded file's content type is not {upload.content_type}.")
        return upload
