"""GET /v1/files/{file_id}/content: a redirect to a presigned S3 GET of the file's bytes.

A function cannot answer a body over 6 MB, and a file may be 100 MiB: the client follows the redirect
(OpenAI's SDK does), and sends its Authorization header only to its own origin, never to S3.
"""

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

from shared.api.app import lambda_handler
from shared.api.auth import PredictCaller
from shared.api.jsonbody import StrictJsonRoute
from shared.api.openapi import Tag
from shared.api.problems import openai_responses
from shared.wiring import file_service

router = APIRouter(tags=[Tag.FILES], route_class=StrictJsonRoute)


@router.get(
    "/v1/files/{file_id}/content",
    response_class=RedirectResponse,
    status_code=307,
    responses={
        307: {
            "description": "Redirected to a presigned S3 GET of the bytes (valid for minutes).",
            "headers": {
                "Location": {"description": "The presigned URL.", "schema": {"type": "string"}, "required": True}
            },
        },
        **openai_responses(401, 403, 404, 503),
    },
    summary="Retrieve a file's content (OpenAI-compatible)",
)
async def get_file_content(file_id: str, caller: PredictCaller) -> RedirectResponse:
    """OpenAI's `files.content`: a 307 redirect to a presigned S3 GET of the file's bytes (valid for
    minutes; follow it without the `Authorization` header). Errors are OpenAI's `{"error": {...}}`: 404
    for an unknown, expired or foreign file."""
    return RedirectResponse(file_service().content_url(caller.tenant, file_id), status_code=307)


handler = lambda_handler(router)
