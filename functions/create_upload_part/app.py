"""POST /v1/uploads/{upload_id}/parts: one part of a batch upload (OpenAI's Uploads API, multipart ``data``).

Each part is a request body, so at most ``shared.api.bodies.MAX_MULTIPART_BODY_BYTES`` with its framing;
the part goes to S3 under the upload and one conditional write records its size on the upload.
"""

from typing import Annotated

from fastapi import APIRouter, File, UploadFile

from shared.api.app import lambda_handler
from shared.api.auth import PredictCaller
from shared.api.file_schemas import UploadPartOut
from shared.api.jsonbody import StrictJsonRoute
from shared.api.openapi import Tag
from shared.api.problems import openai_responses
from shared.wiring import upload_service

router = APIRouter(tags=[Tag.UPLOADS], route_class=StrictJsonRoute)


@router.post(
    "/v1/uploads/{upload_id}/parts",
    response_model=UploadPartOut,
    responses=openai_responses(400, 401, 403, 404, 413, 415, 503),
    summary="Add a part to an upload (OpenAI-compatible)",
    description="A part of a pending batch upload, at most 4,669,440 bytes with its multipart framing "
    "(`upload_file_chunked(..., part_size=4194304)`); the parts may not add up to more than the upload's "
    "`bytes`, and an upload takes at most 1,000 parts.",
)
async def create_upload_part(
    upload_id: str, caller: PredictCaller, data: Annotated[UploadFile, File(description="The part's bytes.")]
) -> UploadPartOut:
    data.file.seek(0)
    part, created_at = upload_service().add_part(caller, upload_id, data.file, data.size or 0)
    return UploadPartOut.of(part, upload_id, created_at)


handler = lambda_handler(router)
