"""Use cases of uploads: hand out a presigned PUT, take OpenAI's parts and complete or cancel, and check an
upload before a request uses it."""

import hashlib
from dataclasses import replace
from datetime import timedelta
from typing import BinaryIO

from shared.files.models import FilePurpose, StoredFile, filename_problem
from shared.files.ports import FileStore
from shared.files.service import file_expiry, file_key
from shared.kernel.clock import utc_now
from shared.kernel.ids import IdKind, is_valid_id, new_id
from shared.kernel.observability import logger
from shared.keys.models import Caller, PermissionDeniedError, grants
from shared.uploads.models import (
    CONTENT_TYPES,
    MAX_PARTS,
    MAX_SIZE,
    SCOPE_NEEDED,
    PresignedPut,
    Purpose,
    UnusableUploadError,
    Upload,
    UploadBusyError,
    UploadChangedError,
    UploadNotFoundError,
    UploadPart,
    UploadStateError,
    UploadStatus,
    media_type,
)
from shared.uploads.ports import Assembler, ObjectStore, UploadStore

object_key = file_key  # an upload's object lies where a file of its id would: uploads/<tenant>/<id>


def part_key(upload: Upload, part_id: str) -> str:
    return f"{upload.key}.parts/{part_id}"


def assembled_key(upload: Upload) -> str:
    """Where one completion assembles the upload's parts: a new object each time."""
    return f"{upload.key}.assembled/{new_id(IdKind.FILE)}"


def file_id_of(upload_id: str) -> str:
    """The file a completed upload becomes: ``file_<the upload's ULID>``, so completing twice is one file."""
    return f"{IdKind.FILE.value}_{upload_id.split('_', 1)[1]}"


# A completion that made the file's item but not the upload's status this long ago died (API functions end
# at 29 s): another completion takes over.
ABANDONED_AFTER_SECONDS = 120


class UploadService:
    def __init__(
        self,
        store: UploadStore,
        objects: ObjectStore,
        url_lifetime: timedelta,
        retention: timedelta,
        files: FileStore,
        assembler: Assembler,
    ) -> None:
        self._store = store
        self._objects = objects
        self._url_lifetime = url_lifetime
        self._retention = retention
        self._files = files
        self._assembler = assembler

    def create(
        self,
        caller: Caller,
        purpose: Purpose,
        content_type: str,
        size: int,
        filename: str | None = None,
        file_lifetime: int | None = None,
    ) -> tuple[Upload, PresignedPut]:
        """Validate the declared file (403 without the purpose's scope, 422 on a type, size or name the
        purpose refuses) and presign its PUT. Parts may be added instead (batch uploads)."""
        if not grants(caller.scopes, SCOPE_NEEDED[purpose]):
            raise PermissionDeniedError(SCOPE_NEEDED[purpose])
        tenant = caller.tenant
        content_type = media_type(content_type)  # "Application/JSONL; charset=utf-8" is application/jsonl
        if content_type not in CONTENT_TYPES[purpose]:
            allowed = ", ".join(sorted(CONTENT_TYPES[purpose]))
            raise UnusableUploadError("/content_type", f"A {purpose.value} upload must be one of: {allowed}.")
        if size > MAX_SIZE[purpose]:
            raise UnusableUploadError("/size", f"A {purpose.value} upload is at most {MAX_SIZE[purpose]} bytes.")
        problem = filename_problem(filename) if filename is not None else None
        if problem is not None:
            raise UnusableUploadError("/filename", problem)
        now = int(utc_now().timestamp())
        file_expiry(now, self._retention, file_lifetime)  # refuses an expires_after out of bounds
        upload_id = new_id(IdKind.UPLOAD)
        lifetime = int(self._url_lifetime.total_seconds())
        upload = Upload(
            id=upload_id,
            tenant=tenant,
            purpose=purpose,
            content_type=content_type,
            size=size,
            key=object_key(tenant, upload_id),
            created_at=now,
            expires_at=now + lifetime,
            filename=filename or upload_id,
            file_lifetime=file_lifetime,
        )
        presigned = self._objects.presign_put(upload.key, content_type, size, lifetime)
        self._store.create(upload, now + int(self._retention.total_seconds()))
        logger.info("upload created", extra={"upload_id": upload_id, "purpose": purpose.value, "size": size})
        return upload, presigned

    def get(self, tenant: str, upload_id: str) -> Upload:
        upload = self._store.get(tenant, upload_id) if is_valid_id(IdKind.UPLOAD, upload_id) else None
        if upload is None:
            raise UploadNotFoundError()
        return upload

    def file_of(self, upload: Upload) -> StoredFile | None:
        """The file a completed upload became (None before, or once it was deleted)."""
        if upload.file_id is None:
            return None
        return self._files.get(upload.tenant, upload.file_id)

    def _own(self, caller: Caller, upload_id: str) -> Upload:
        """The caller's upload, if its key has the scope the upload's purpose needs."""
        upload = self.get(caller.tenant, upload_id)
        if not grants(caller.scopes, SCOPE_NEEDED[upload.purpose]):
            raise PermissionDeniedError(SCOPE_NEEDED[upload.purpose])
        return upload

    def add_part(self, caller: Caller, upload_id: str, body: BinaryIO, size: int) -> tuple[UploadPart, int]:
        """Store a part of a pending batch upload and record it on the upload (one conditional write); the
        part and when it was received."""
        upload = self._own(caller, upload_id)
        if upload.purpose is not Purpose.BATCH_INPUT:
            raise UploadStateError("/data", "Only batch uploads take parts: PUT a model artifact to its URL.")
        now = int(utc_now().timestamp())
        part = UploadPart(new_id(IdKind.PART), size)
        _judge_part(upload, part, now)
        key = part_key(upload, part.id)
        self._objects.put(key, body, "application/octet-stream")
        try:
            self._store.add_part(upload, part, now, MAX_PARTS)
        except UploadChangedError as lost:  # another request changed it meanwhile: say what it is now
            self._objects.delete([key])
            if lost.current is None:
                raise UploadNotFoundError() from None
            _judge_part(lost.current, part, now)
            raise UploadStateError("/data", "The upload cannot take this part.") from None
        logger.info("upload part added", extra={"upload_id": upload_id, "part_id": part.id, "size": size})
        return part, now

    def complete(self, caller: Caller, upload_id: str, part_ids: list[str], md5: str | None) -> Upload:
        """Make the upload a file: its parts, in the order named, assembled by streaming (with ``md5``
        checked on the way), or with no parts the file its presigned PUT delivered, as it is. Completing
        a completed upload answers it again."""
        upload = self._own(caller, upload_id)
        tenant = caller.tenant
        if upload.status is UploadStatus.COMPLETED:
            return _as_completed(upload, part_ids)
        now = int(utc_now().timestamp())
        _must_be_pending(upload, now, "/part_ids")
        if upload.purpose is not Purpose.BATCH_INPUT:
            raise UploadStateError("/", "Only batch uploads become files: a model artifact is registered as it is.")
        if part_ids:
            key, size = self._assemble(upload, part_ids, md5)
        else:
            self.ready_for(tenant, upload_id, Purpose.BATCH_INPUT, "/part_ids")
            if md5 is not None:
                self._check_md5(upload.key, md5)
            key, size = upload.key, upload.size
        file_id = file_id_of(upload.id)
        stored = StoredFile(
            file_id,
            tenant,
            FilePurpose.BATCH,
            upload.filename,
            size,
            key,
            now,
            file_expiry(now, self._retention, upload.file_lifetime),
        )
        files = self._files
        if not files.create(stored):  # another complete made the file, or is making it
            held = files.get(tenant, file_id)
            if held is None or now - held.created_at <= ABANDONED_AFTER_SECONDS:
                self._discard(upload, key)
                current = self.get(tenant, upload_id)
                if current.status is UploadStatus.COMPLETED:
                    return _as_completed(current, part_ids)
                raise UploadBusyError()
            files.put(stored)  # its writer died before completing the upload: this request completes it
        try:
            done = self._store.finish(upload, UploadStatus.COMPLETED, file_id, tuple(part_ids))
        except UploadChangedError as lost:
            self._discard(upload, key)
            if lost.current is not None and lost.current.status is UploadStatus.COMPLETED:
                return _as_completed(lost.current, part_ids)  # a completion that took over made the file
            files.delete(tenant, file_id)
            raise UploadStateError("/", "The upload was cancelled while it was being completed.") from None
        if upload.parts:
            self._objects.delete([part_key(upload, part.id) for part in upload.parts])
        logger.info("upload completed", extra={"upload_id": upload_id, "file_id": file_id, "size": size})
        return done

    def cancel(self, caller: Caller, upload_id: str) -> Upload:
        """A pending upload takes no more parts and cannot complete (cancelling again answers it again)."""
        upload = self._own(caller, upload_id)
        if upload.status is UploadStatus.CANCELLED:
            return upload
        _must_be_pending(upload, int(utc_now().timestamp()), "/")
        try:
            done = self._store.finish(upload, UploadStatus.CANCELLED, None)
        except UploadChangedError as lost:
            if lost.current is not None and lost.current.status is UploadStatus.CANCELLED:
                return lost.current
            raise UploadStateError("/", "The upload was completed meanwhile: it cannot be cancelled.") from None
        if upload.parts:
            self._objects.delete([part_key(upload, part.id) for part in upload.parts])
        logger.info("upload cancelled", extra={"upload_id": upload_id})
        return done

    def ready_for(self, tenant: str, upload_id: str, purpose: Purpose, pointer: str) -> Upload:
        """The upload, if it was made for ``purpose`` and its file arrived whole; else 422 at ``pointer``."""
        try:
            upload = self.get(tenant, upload_id)
        except UploadNotFoundError:
            raise UnusableUploadError(pointer, "There is no such upload.") from None
        if upload.purpose is not purpose:
            raise UnusableUploadError(pointer, f"The upload is for {upload.purpose.value}, not {purpose.value}.")
        if upload.status is UploadStatus.CANCELLED:
            raise UnusableUploadError(pointer, "The upload was cancelled.")
        if upload.status is UploadStatus.COMPLETED:  # its parts were assembled into its file's own object
            file = self.file_of(upload)
            if file is None:
                raise UnusableUploadError(pointer, "The upload's file was deleted.")
            upload = replace(upload, key=file.key)
        stored = self._objects.head(upload.key)
        if stored is None:
            raise UnusableUploadError(pointer, "Nothing has been uploaded yet: PUT the file to the upload's URL.")
        if stored.size != upload.size:
            raise UnusableUploadError(
                pointer, f"The uploaded file is {stored.size} bytes; the upload declared {upload.size}."
            )
        if media_type(stored.content_type) != upload.content_type:
            raise UnusableUploadError(pointer, f"The uploaded file's content type is not {upload.content_type}.")
        return upload

    def _assemble(self, upload: Upload, part_ids: list[str], md5: str | None) -> tuple[str, int]:
        """The parts, in order, streamed into an object of this request's own (concurrent completes never
        write, or delete, each other's), and its size."""
        sizes = {part.id: part.size for part in upload.parts}
        for index, part_id in enumerate(part_ids):
            if part_id not in sizes:
                raise UploadStateError(f"/part_ids/{index}", f"{part_id[:40]!r} is not a part of this upload.")
        if len(set(part_ids)) != len(part_ids):
            raise UploadStateError("/part_ids", "A part is named more than once.")
        total = sum(sizes[part_id] for part_id in part_ids)
        if total != upload.size:
            raise UploadStateError(
                "/part_ids", f"The parts add up to {total} bytes; the upload declared {upload.size}."
            )
        digest = hashlib.md5(usedforsecurity=False)
        assembler = self._assembler
        key = assembled_key(upload)
        size = assembler.concatenate(
            (part_key(upload, part_id) for part_id in part_ids), key, upload.content_type, digest.update
        )
        if md5 is not None and digest.hexdigest() != md5.strip().lower():
            self._objects.delete([key])
            raise UploadStateError("/md5", "The md5 of the parts is not the one given: no file was made.")
        return key, size

    def _discard(self, upload: Upload, key: str) -> None:
        """Delete what this request assembled, when another request's file won (never the presigned PUT's)."""
        if key != upload.key:
            self._objects.delete([key])

    def _check_md5(self, key: str, md5: str) -> None:
        digest = hashlib.md5(usedforsecurity=False)
        for block in self._assembler.stream(key, 0):
            digest.update(block)
        if digest.hexdigest() != md5.strip().lower():
            raise UploadStateError("/md5", "The md5 of the uploaded file is not the one given: no file was made.")


def _as_completed(upload: Upload, part_ids: list[str]) -> Upload:
    """A completed upload, answered again to a completion that names the parts it was made of, in the same
    order; another order or other parts would be another file."""
    if tuple(part_ids) != upload.completed_parts:
        raise UploadStateError("/part_ids", "The upload was completed with other parts, or in another order.")
    return upload


def _must_be_pending(upload: Upload, now: int, pointer: str) -> None:
    status = upload.status_at(now)
    if status is not UploadStatus.PENDING:
        raise UploadStateError(pointer, f"The upload is {status.value}: it takes no more parts or completion.")


def _judge_part(upload: Upload, part: UploadPart, now: int) -> None:
    """Refuse a part the upload cannot take (the store's condition says the same, atomically)."""
    _must_be_pending(upload, now, "/data")
    if part.size == 0:
        raise UploadStateError("/data", "A part is at least one byte.")
    if upload.received + part.size > upload.size:
        raise UploadStateError(
            "/data",
            f"This part would bring the upload to {upload.received + part.size} bytes; it declared {upload.size}.",
        )
    if len(upload.parts) >= MAX_PARTS:
        raise UploadStateError("/data", f"An upload takes at most {MAX_PARTS} parts.")
