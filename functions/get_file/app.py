"""GET /v1/files/{file_id}: one of the tenant's files, in OpenAI's shape."""

from fastapi import APIRouter

from shared.api.app import lambda_handler
from shared.api.auth import PredictCaller
from shared.api.file_schemas import FileOut
from shared.api.jsonbody import StrictJsonRoute
from shared.api.openapi import Tag
from shared.api.problems import openai_responses
from shared.wiring import file_service

router = APIRouter(tags=[Tag.FILES], route_class=StrictJsonRoute)


@router.get(
    "/v1/files/{file_id}",
    response_model=FileOut,
    responses=openai_responses(401, 403, 404, 503),
    summary="Retrieve a file (OpenAI-compatible)",
)
async def get_file(file_id: str, caller: PredictCaller) -> FileOut:
    """OpenAI's `files.retrieve`: one unexpired file of the caller's tenant. Errors are OpenAI's
    `{"error": {...}}`: 404 for an unknown, expired or foreign file."""
    return FileOut.of(file_service().get(caller.tenant, file_id))


handler = lambda_handler(router)
