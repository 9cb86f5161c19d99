"""GET /v1/files: the tenant's files, OpenAI's list (``after``, ``limit``, ``order``, ``purpose``)."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from shared.api.app import lambda_handler
from shared.api.auth import PredictCaller
from shared.api.file_schemas import FileListOut
from shared.api.jsonbody import StrictJsonRoute
from shared.api.openapi import Tag
from shared.api.problems import openai_responses
from shared.files.models import FilePurpose
from shared.files.service import MAX_LIST_LIMIT
from shared.wiring import file_service

router = APIRouter(tags=[Tag.FILES], route_class=StrictJsonRoute)


@router.get(
    "/v1/files",
    response_model=FileListOut,
    responses=openai_responses(400, 401, 403, 503),
    summary="List files (OpenAI-compatible)",
    description="The tenant's unexpired files, newest first by default; page with `after` (the last id seen).",
)
async def list_files(
    caller: PredictCaller,
    after: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST_LIMIT)] = 20,
    order: Literal["asc", "desc"] = "desc",
    purpose: FilePurpose | None = None,
) -> FileListOut:
    files, has_more = file_service().list(caller.tenant, limit, after, purpose, newest_first=order == "desc")
    return FileListOut.of(files, has_more)


handler = lambda_handler(router)
