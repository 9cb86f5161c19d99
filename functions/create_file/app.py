"""POST /v1/files: OpenAI's file upload (multipart ``file`` and ``purpose``), for batch input files.

The body is at most ``shared.api.bodies.MAX_MULTIPART_BODY_BYTES`` (what a Lambda invocation can carry,
base64-encoded): bigger files go through the Uploads API's parts or the presigned PUT of POST /v1/uploads.
"""

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile

from shared.api.app import lambda_handler
from shared.api.auth import PredictCaller
from shared.api.file_schemas import ExpiryAnchor, FileOut
from shared.api.jsonbody import StrictJsonRoute
from shared.api.openapi import Tag
from shared.api.problems import openai_responses
from shared.files.models import InvalidFileError
from shared.wiring import file_service

router = APIRouter(tags=[Tag.FILES], route_class=StrictJsonRoute)


@router.post(
    "/v1/files",
    response_model=FileOut,
    responses=openai_responses(400, 401, 403, 413, 415, 503),
    summary="Upload a file (OpenAI-compatible)",
    description="OpenAI's `files.create`: a JSONL batch input file (`purpose` must be `batch`), sent whole as "
    "multipart/form-data of at most 4,669,440 bytes (413 beyond: use the Uploads API's parts or the presigned "
    "PUT of `POST /v1/uploads`). The file expires with the retention, or sooner by `expires_after`.",
)
async def create_file(
    caller: PredictCaller,
    file: Annotated[UploadFile, File(description="The file; its name is kept as given (printable, no '/').")],
    purpose: Annotated[str, Form(max_length=64)],
    anchor: Annotated[ExpiryAnchor | None, Form(alias="expires_after[anchor]")] = None,
    seconds: Annotated[int | None, Form(alias="expires_after[seconds]")] = None,
) -> FileOut:
    if (anchor is None) != (seconds is None):
        raise InvalidFileError("/expires_after", "Send expires_after[anchor] and expires_after[seconds] together.")
    file.file.seek(0)
    stored = file_service().create(caller.tenant, purpose, file.filename or "", file.file, file.size or 0, seconds)
    return FileOut.of(stored)


handler = lambda_handler(router)
