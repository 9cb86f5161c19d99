"""An upload: ``POST /v1/uploads``, then the file ``PUT`` to the presigned URL with exactly the headers it names.

The file is streamed from disk; the API key never goes to the presigned URL. Files of up to 100 MiB go
this way (the API's limit for model artifacts and batch inputs alike); the API's multipart parts route
only takes batch files and passes every byte through the API in parts of about 4.5 MB, so it is not used.
"""

import os
from pathlib import Path

from infergate._config import Settings
from infergate._flow import Flow, call_as, send
from infergate._request import ApiRequest, post
from infergate.errors import InfergateError
from infergate.models import Upload

Source = str | os.PathLike[str] | bytes


def source_of(source: Source) -> bytes | Path:
    """Bytes as they are; anything else is a path to a file that must exist."""
    if isinstance(source, bytes):
        return source
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    return path


def size_of(content: bytes | Path) -> int:
    return len(content) if isinstance(content, bytes) else content.stat().st_size


def upload_flow(settings: Settings, purpose: str, content_type: str, content: bytes | Path) -> Flow[Upload]:
    """Create the upload and send the file to it; the upload (its ``id`` names it in the next call)."""
    body = {"purpose": purpose, "content_type": content_type, "size": size_of(content)}
    # Creating a second upload by a retry is harmless: an unused one expires within the hour.
    upload = yield from call_as(settings, post("/v1/uploads", body, replayable=True), Upload.model_validate)
    if not upload.url:
        raise InfergateError(f"upload {upload.id} came without a URL to send the file to")
    put = ApiRequest(upload.method or "PUT", url=upload.url, content=content, headers=upload.headers or {})
    yield from send(settings, put)
    return upload
