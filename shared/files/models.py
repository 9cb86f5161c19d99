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


# OpenAI's bounds on ``expires_after.seconds`` (an hour to 30 days); a file never outlives the retention.
MIN_EXPIRES_AFTER_SECONDS = 3600
MAX_EXPIRES_AFTER_SECONDS = 30 * 86_400
MAX_FILENAME_CHARS = 255


def filename_problem(name: str) -> str | None:
    """Why ``name`` cannot be a file's name, or None. The key names' rule (printable text: no control,
    format or invisible characters, not only spaces), at most 255 characters, and no path separator: the
    name is shown in listings and answered in downloads, never used as a path (the key is the file's id)."""
    if not name or len(name) > MAX_FILENAME_CHARS:
        return f"A file name is 1 to {MAX_FILENAME_CHARS} characters."
    if not name.isprintable() or not name.strip():
        return "A file name must be printable text: no control, format or invisible characters, not only spaces."
    if "/" in name or "\\" in name:
        return "A file name may not contain a path separator ('/' or '\\')."
    return None


class InvalidFileError(InvalidRequestError):
    """A file the caller sends cannot be stored (its purpose, name, size or expiry)."""

    def __init__(self, pointer: str, message: str) -> None:
        super().__init__(message)
        self.errors = [FieldError(pointer, message)]
