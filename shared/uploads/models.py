"""Upload domain types and errors."""

from dataclasses import dataclass
from enum import StrEnum

from shared.kernel.errors import FieldError, InvalidRequestError, NotFoundError
from shared.keys.models import Scope

MIB = 1024 * 1024


class Purpose(StrEnum):
    BATCH_INPUT = "batch_input"
    MODEL_ARTIFACT = "model_artifact"


# What each purpose accepts: content types, and the largest file.
CONTENT_TYPES: dict[Purpose, frozenset[str]] = {
    Purpose.MODEL_ARTIFACT: frozenset(
        {"application/octet-stream", "application/onnx", "application/gzip", "application/zip"}
    ),
    Purpose.BATCH_INPUT: frozenset({"application/jsonl", "application/x-ndjson"}),
}
MAX_SIZE: dict[Purpose, int] = {Purpose.MODEL_ARTIFACT: 100 * MIB, Purpose.BATCH_INPUT: 100 * MIB}
# The scope an upload of each purpose needs: the scope of the route that can use it. Only admin keys
# register model versions, so a predict key could never use a model artifact it uploaded.
SCOPE_NEEDED: dict[Purpose, Scope] = {Purpose.MODEL_ARTIFACT: Scope.ADMIN, Purpose.BATCH_INPUT: Scope.PREDICT}


@dataclass(frozen=True)
class Upload:
    id: str
    tenant: str
    purpose: Purpose
    content_type: str
    size: int
    key: str  # the S3 object key
    created_at: str
    expires_at: str  # when the presigned URL stops working


@dataclass(frozen=True)
class PresignedPut:
    url: str
    headers: dict[str, str]


@dataclass(frozen=True)
class StoredObject:
    """What S3 says about an uploaded object."""

    size: int
    content_type: str


class UploadNotFoundError(NotFoundError):
    def __init__(self) -> None:
        super().__init__("There is no such upload.")


class UnusableUploadError(InvalidRequestError):
    """An upload named in a request cannot serve it (wrong purpose, nothing uploaded, wrong size or type)."""

    def __init__(self, pointer: str, message: str) -> None:
        super().__init__(message)
        self.errors = [FieldError(pointer, message)]
