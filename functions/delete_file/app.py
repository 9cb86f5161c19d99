"""DELETE /v1/files/{file_id}: remove one of the tenant's files, its item and its bytes."""

from fastapi import APIRouter

from shared.api.app import lambda_handler
from shared.api.auth import PredictCaller
from shared.api.file_schemas import FileDeletedOut
from shared.api.jsonbody import StrictJsonRoute
from shared.api.openapi import Tag
from shared.api.problems import openai_responses
from shared.wiring import file_service

router = APIRouter(tags=[Tag.FILES], route_class=StrictJsonRoute)


@router.delete(
    "/v1/files/{file_id}",
    response_model=FileDeletedOut,
    responses=openai_responses(401, 403, 404, 503),
    summary="Delete a file (OpenAI-compatible)",
)
async def delete_file(file_id: str, caller: PredictCaller) -> FileDeletedOut:
    """OpenAI's `files.delete`: the file and its bytes are deleted; batches that already read it are
    not affected. Errors are OpenAI's `{"error": {...}}`: 404 for an unknown, expired or foreign file."""
    return FileDeletedOut(id=file_service().delete(caller.tenant, file_id).id)


handler = lambda_handler(router)
