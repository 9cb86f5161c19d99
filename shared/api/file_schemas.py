"""Request and response bodies of files and uploads: OpenAI's Files and Uploads APIs, with Infergate's
presigned PUT on the upload object."""

from enum import StrEnum
from typing import Literal, TypeVar

from pydantic import BaseModel, Field

from shared.api.schemas import StrictModel
from shared.files.models import MAX_EXPIRES_AFTER_SECONDS, MIN_EXPIRES_AFTER_SECONDS, FilePurpose, StoredFile
from shared.uploads.models import (
    MAX_PARTS,
    MAX_SIZE,
    PresignedPut,
    Purpose,
    UnusableUploadError,
    Upload,
    UploadPart,
    UploadStatus,
)

# OpenAI's "batch" is Infergate's "batch_input": one purpose, two spellings.
UploadPurpose = Literal["batch", "batch_input", "model_artifact"]
_PURPOSES: dict[str, Purpose] = {
    "batch": Purpose.BATCH_INPUT,
    "batch_input": Purpose.BATCH_INPUT,
    "model_artifact": Purpose.MODEL_ARTIFACT,
}
# What the upload object answers as its purpose: OpenAI's spelling where there is one.
_WIRE_PURPOSE = {Purpose.BATCH_INPUT: "batch", Purpose.MODEL_ARTIFACT: "model_artifact"}
_LARGEST = max(MAX_SIZE.values())


class FileOut(BaseModel):
    """OpenAI's file object."""

    id: str = Field(examples=["file_01JD5YB4W3ZV0B4S8FZ7Q6N9XK"])
    object: Literal["file"] = "file"
    bytes: int
    created_at: int = Field(description="Unix seconds.")
    expires_at: int = Field(description="Unix seconds: the file is deleted then (the retention at the latest).")
    filename: str
    purpose: FilePurpose
    status: Literal["processed"] = "processed"
    status_details: None = None

    @classmethod
    def of(cls, file: StoredFile) -> "FileOut":
        return cls(
            id=file.id,
            bytes=file.size,
            created_at=file.created_at,
            expires_at=file.expires_at,
            filename=file.filename,
            purpose=file.purpose,
        )


class FileListOut(BaseModel):
    object: Literal["list"] = "list"
    data: list[FileOut]
    first_id: str | None
    last_id: str | None
    has_more: bool

    @classmethod
    def of(cls, files: list[StoredFile], has_more: bool) -> "FileListOut":
        data = [FileOut.of(file) for file in files]
        return cls(
            data=data, first_id=data[0].id if data else None, last_id=data[-1].id if data else None, has_more=has_more
        )


class FileDeletedOut(BaseModel):
    id: str
    object: Literal["file"] = "file"
    deleted: Literal[True] = True


class ExpiryAnchor(StrEnum):
    """What ``expires_after`` counts from (OpenAI's only anchor); an enum, not a ``Literal``, so that client
    generators can send it in a multipart form."""

    CREATED_AT = "created_at"


class ExpiresAfter(StrictModel):
    anchor: Literal["created_at"]
    seconds: int = Field(ge=MIN_EXPIRES_AFTER_SECONDS, le=MAX_EXPIRES_AFTER_SECONDS)


class CreateUploadRequest(StrictModel):
    """Infergate's body (`purpose`, `content_type`, `size`) or OpenAI's (`purpose: "batch"`, `filename`,
    `bytes`, `mime_type`, `expires_after`)."""

    purpose: UploadPurpose = Field(description="`batch` and `batch_input` are the same purpose.")
    content_type: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="Infergate's name of `mime_type`. `model_artifact`: `application/octet-stream`, "
        "`application/onnx`, `application/gzip` or `application/zip`; batch: `application/jsonl`, "
        "`application/x-ndjson` or `text/jsonl`.",
    )
    size: int | None = Field(default=None, ge=1, le=_LARGEST, description="Infergate's name of `bytes`.")
    filename: str | None = Field(default=None, min_length=1, max_length=255, description="Printable, no '/'.")
    bytes: int | None = Field(default=None, ge=1, le=_LARGEST, description="Exact size of the file in bytes.")
    mime_type: str | None = Field(default=None, min_length=1, max_length=100)
    expires_after: ExpiresAfter | None = Field(
        default=None, description="When the completed upload's file expires (at most the retention)."
    )

    def declared(self) -> tuple[Purpose, str, int]:
        """The purpose, content type and size, whichever names the body used (not both of a pair)."""
        content_type = _one(self.mime_type, self.content_type, "mime_type", "content_type")
        size = _one(self.bytes, self.size, "bytes", "size")
        return _PURPOSES[self.purpose], content_type, size


T = TypeVar("T")


def _one(openai: T | None, native: T | None, openai_name: str, native_name: str) -> T:
    if openai is not None and native is not None:
        raise UnusableUploadError(f"/{native_name}", f"Send {openai_name} or {native_name}, not both.")
    value = openai if openai is not None else native
    if value is None:
        raise UnusableUploadError(f"/{openai_name}", f"{openai_name} (or {native_name}) is required.")
    return value


class UploadOut(BaseModel):
    """OpenAI's upload object, with Infergate's presigned PUT of the file (when the upload is created)."""

    id: str = Field(examples=["upl_01JD5YB4W3ZV0B4S8FZ7Q6N9XK"])
    object: Literal["upload"] = "upload"
    bytes: int
    created_at: int = Field(description="Unix seconds.")
    expires_at: int = Field(description="Unix seconds: parts, completion and the presigned PUT end then.")
    filename: str
    purpose: str = Field(examples=["batch", "model_artifact"])
    status: UploadStatus
    file: FileOut | None = Field(description="The file the upload became, once completed.")
    url: str | None = Field(
        default=None, description="A presigned S3 URL that accepts one PUT of the file until `expires_at`."
    )
    method: Literal["PUT"] | None = None
    headers: dict[str, str] | None = Field(
        default=None, description="Headers the PUT must carry exactly (they are signed)."
    )

    @classmethod
    def of(
        cls, upload: Upload, now: int, file: StoredFile | None = None, presigned: PresignedPut | None = None
    ) -> "UploadOut":
        return cls(
            id=upload.id,
            bytes=upload.size,
            created_at=upload.created_at,
            expires_at=upload.expires_at,
            filename=upload.filename,
            purpose=_WIRE_PURPOSE[upload.purpose],
            status=upload.status_at(now),
            file=FileOut.of(file) if file is not None else None,
            url=presigned.url if presigned else None,
            method="PUT" if presigned else None,
            headers=presigned.headers if presigned else None,
        )


class UploadPartOut(BaseModel):
    id: str = Field(examples=["part_01JD5YB4W3ZV0B4S8FZ7Q6N9XK"])
    object: Literal["upload.part"] = "upload.part"
    created_at: int
    upload_id: str

    @classmethod
    def of(cls, part: UploadPart, upload_id: str, created_at: int) -> "UploadPartOut":
        return cls(id=part.id, created_at=created_at, upload_id=upload_id)


class CompleteUploadRequest(StrictModel):
    part_ids: list[str] = Field(
        default_factory=list,
        max_length=MAX_PARTS,
        description="The parts, in order. None (or empty): the file the presigned PUT delivered.",
    )
    md5: str | None = Field(default=None, max_length=64, description="The md5 of the whole file, hex.")
