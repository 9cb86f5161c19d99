"""Upload domain types and errors.

One upload resource serves two clients: Infergate's presigned S3 PUT (any purpose) and OpenAI's Uploads
API (batch uploads only: parts, then a completion that makes the upload a file).
"""

from dataclasses import dataclass, field
from enum import StrEnum

from shared.kernel.errors import ConflictError, FieldError, InvalidRequestError, NotFoundError
from shared.keys.models import Scope

MIB = 1024 * 1024


class Purpose(StrEnum):
    BATCH_INPUT = "batch_input"  # OpenAI's "batch": the same purpose
    MODEL_ARTIFACT = "model_artifact"


class UploadStatus(StrEnum):
    PENDING = "pending"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"  # never stored: a pending upload past its expires_at


JSONL_TYPES = frozenset({"application/jsonl", "application/x-ndjson", "text/jsonl"})
# What each purpose accepts: content types, and the largest file.
CONTENT_TYPES: dict[Purpose, frozenset[str]] = {
    Purpose.MODEL_ARTIFACT: frozenset(
        {"application/octet-stream", "application/onnx", "application/gzip", "application/zip"}
    ),
    Purpose.BATCH_INPUT: JSONL_TYPES,
}
MAX_SIZE: dict[Purpose, int] = {Purpose.MODEL_ARTIFACT: 100 * MIB, Purpose.BATCH_INPUT: 100 * MIB}
# The scope an upload of each purpose needs: the scope of the route that can use it. Only admin keys
# register model versions, so a predict key could never use a model artifact it uploaded.
SCOPE_NEEDED: dict[Purpose, Scope] = {Purpose.MODEL_ARTIFACT: Scope.ADMIN, Purpose.BATCH_INPUT: Scope.PREDICT}
# The most parts one upload takes. The parts' sizes are kept on the upload's item (about 40 bytes each, far
# inside DynamoDB's 400 KB), and completing reads each part once: 1,000 parts of the largest size hold
# far more than a batch file's 100 MiB, so only clients sending tiny parts meet the bound.
MAX_PARTS = 1000


@dataclass(frozen=True)
class UploadPart:
    id: str  # part_<ULID>
    size: int


def media_type(content_type: str) -> str:
    """A Content-Type's media type, as it is compared: without parameters, in lower case."""
    return content_type.split(";", 1)[0].strip().lower()


@dataclass(frozen=True)
class Upload:
    """An upload; ``created_at`` and ``expires_at`` (when its URL and parts stop being accepted) are Unix
    seconds. ``parts`` are the parts received so far, ``file_id`` the file it became once completed."""

    id: str
    tenant: str
    purpose: Purpose
    content_type: str
    size: int
    key: str  # the S3 object key of the file
    created_at: int
    expires_at: int
    filename: str = ""
    status: UploadStatus = UploadStatus.PENDING
    parts: tuple[UploadPart, ...] = field(default=())
    file_id: str | None = None
    file_lifetime: int | None = None  # expires_after.seconds of the file it becomes (OpenAI's create)
    completed_parts: tuple[str, ...] = ()  # the part ids its completion assembled, in order (none: the PUT)

    def status_at(self, now: int) -> UploadStatus:
        """The status a caller sees: a pending upload is expired from its ``expires_at`` on."""
        if self.status is UploadStatus.PENDING and now >= self.expires_at:
            return UploadStatus.EXPIRED
        return self.status

    @property
    def received(self) -> int:
        return sum(part.size for part in self.parts)


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


class UploadStateError(InvalidRequestError):
    """The upload's state refuses the request: a part or completion of an upload that is no longer pending,
    parts beyond the declared bytes or the part bound, parts that do not add up, a checksum that differs."""

    def __init__(self, pointer: str, message: str) -> None:
        super().__init__(message)
        self.errors = [FieldError(pointer, message)]


class UploadBusyError(ConflictError):
    """Another request is completing the upload: its answer is the upload's, once it is done."""

    def __init__(self) -> None:
        super().__init__("Another request is completing this upload; retrieve it again in a few seconds.")


class UploadChangedError(Exception):
    """A conditional write on an upload lost: ``current`` is the upload as stored."""

    def __init__(self, current: Upload | None) -> None:
        super().__init__("the upload changed")
        self.current = current
