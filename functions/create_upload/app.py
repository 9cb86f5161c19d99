"""POST /v1/uploads: one upload resource for both clients. Infergate's body (`purpose`, `content_type`,
`size`) or OpenAI's (`purpose: "batch"`, `filename`, `bytes`, `mime_type`) make the same upload: OpenAI's
upload object, with the presigned S3 PUT of the file (`url`, `method`, `headers`). A batch upload may take
OpenAI's parts instead (POST /v1/uploads/{upload_id}/parts, then complete).

Both dialects share the route: errors are problem documents carrying OpenAI's ``error`` member, and an
OpenAI body's refusals are 400 (``shared.api.dialect``)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, status

from shared.api.app import lambda_handler
from shared.api.auth import PredictCaller
from shared.api.dialect import openai_dialect_when
from shared.api.file_schemas import CreateUploadRequest, UploadOut
from shared.api.jsonbody import StrictJsonRoute
from shared.api.openapi import Tag
from shared.api.problems import responses
from shared.wiring import upload_service

router = APIRouter(tags=[Tag.UPLOADS], route_class=StrictJsonRoute)
_OPENAI_FIELDS = frozenset({"filename", "bytes", "mime_type", "expires_after"})


def _is_openai(body: Any) -> bool:
    return isinstance(body, dict) and (body.get("purpose") == "batch" or not _OPENAI_FIELDS.isdisjoint(body))


@router.post(
    "/v1/uploads",
    status_code=status.HTTP_201_CREATED,
    response_model=UploadOut,
    responses=responses(400, 401, 403, 415, 422, 503),
    summary="Create an upload",
    description="OpenAI's upload object plus a presigned S3 PUT: send the file with exactly the returned "
    "`headers` before `expires_at` (Unix seconds), or (batch uploads) send it in parts and complete it. "
    "A `model_artifact` upload needs an admin key (only admins register model versions); a batch one a "
    "predict key. Errors carry OpenAI's `error` member too; an OpenAI body's refusals are 400, not 422.",
)
async def create_upload(
    _: Annotated[None, Depends(openai_dialect_when(_is_openai))], body: CreateUploadRequest, caller: PredictCaller
) -> UploadOut:
    purpose, content_type, size = body.declared()
    lifetime = body.expires_after.seconds if body.expires_after else None
    upload, presigned = upload_service().create(caller, purpose, content_type, size, body.filename, lifetime)
    return UploadOut.of(upload, upload.created_at, presigned=presigned)


handler = lambda_handler(router)
