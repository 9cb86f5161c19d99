"""The file: bytes in the bucket under one tenant, named by an id, with OpenAI's fields."""

from dataclasses import dataclass
from enum import StrEnum

from shared.kernel.errors import FieldError, InvalidRequestError, NotFoundError


class FilePurpose(StrEnum):
    BATCH = "batch"  # a batch's input, sent by the tenant
    BATCH_OUTPUT = "batch_output"  # a batch's output or error file, written by the batch


@dataclass(frozen=True)
class StoredFile:
    """A file: ``key`` is its S3 object; ``created_at`` and ``expires_at`` are Unix seconds (the
    retention: the item's TTL and the bucket's lifecycle rule end it)."""

    id: str  # file_<ULID>
    tenant: str
    purpose: FilePurpose
    filename: str
    size: int
    key: str
    created_at: int
    expires_at: int


class NoSuchFileError(NotFoundError):
    def __init__(self, file_id: str) -> None:
        super().__init__(f"No such File object: {file_id}")
        self.file_id = file_id


class UnusableFileError(InvalidRequestError):
    """A file named in a request cannot serve it (no such file, or the wrong purpose)."""

    def __init__(self, pointer: str, message: str) -> None:
        super().__init__(message)
        self.errors = [FieldError(pointer, message)]
