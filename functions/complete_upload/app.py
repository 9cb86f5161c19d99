"""POST /v1/uploads/{upload_id}/complete: the upload becomes a file (OpenAI's Uploads API).

The parts named are assembled in order into the upload's object by streaming (S3 multipart, never the
whole file in memory), ``md5`` checked on the way; with no parts, the file the presigned PUT delivered
becomes the file as it is. Completing a completed upload answers it again.
"""

from fastapi import APIRouter

from shared.api.app import lambda_handler
from shared.api.auth import PredictCaller
from shared.api.file_schemas import CompleteUploadRequest, UploadOut
from shared.api.jsonbody import StrictJsonRoute
from shared.api.openapi import Tag
from shared.api.problems import openai_responses
from shared.kernel.clock import utc_now
from shared.wiring import upload_service

router = APIRouter(tags=[Tag.UPLOADS], route_class=StrictJsonRoute)


@router.post(
    "/v1/uploads/{upload_id}/complete",
    response_model=UploadOut,
    responses=openai_responses(400, 401, 403, 404, 415, 503),
    summary="Complete an upload (OpenAI-compatible)",
)
async def complete_upload(upload_id: str, body: CompleteUploadRequest, caller: PredictCaller) -> UploadOut:
    """OpenAI's `uploads.complete`: the parts, in the order named by `part_ids`, become one file
    (its `md5`, if sent, is checked); with no parts, the file the presigned PUT delivered. Answers the
    upload with its `file`. Completing a completed upload answers it again. Errors are OpenAI's
    `{"error": {...}}`: 400 for unknown parts, a size other than declared or an expired upload, 404 for an
    unknown upload."""
    service = upload_service()
    upload = service.complete(caller, upload_id, body.part_ids, body.md5)
    return UploadOut.of(upload, int(utc_now().timestamp()), service.file_of(upload))


handler = lambda_handler(router)
