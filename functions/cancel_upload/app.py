"""POST /v1/uploads/{upload_id}/cancel: a pending upload takes no more parts and cannot complete."""

from fastapi import APIRouter

from shared.api.app import lambda_handler
from shared.api.auth import PredictCaller
from shared.api.file_schemas import UploadOut
from shared.api.jsonbody import StrictJsonRoute
from shared.api.openapi import Tag
from shared.api.problems import openai_responses
from shared.kernel.clock import utc_now
from shared.wiring import upload_service

router = APIRouter(tags=[Tag.UPLOADS], route_class=StrictJsonRoute)


@router.post(
    "/v1/uploads/{upload_id}/cancel",
    response_model=UploadOut,
    responses=openai_responses(400, 401, 403, 404, 503),
    summary="Cancel an upload (OpenAI-compatible)",
)
async def cancel_upload(upload_id: str, caller: PredictCaller) -> UploadOut:
    """OpenAI's `uploads.cancel`: a pending upload takes no more parts and cannot be completed;
    cancelling again answers it again. Errors are OpenAI's `{"error": {...}}`: 400 when it is already
    completed or expired, 404 for an unknown upload."""
    upload = upload_service().cancel(caller, upload_id)
    return UploadOut.of(upload, int(utc_now().timestamp()))


handler = lambda_handler(router)
