"""POST /v1/uploads: a presigned S3 PUT for a model artifact or a batch input file."""

from fastapi import APIRouter, status

from shared.api.app import lambda_handler
from shared.api.auth import PredictCaller
from shared.api.jsonbody import StrictJsonRoute
from shared.api.problems import responses
from shared.api.schemas import CreateUploadRequest, UploadOut
from shared.wiring import upload_service

router = APIRouter(route_class=StrictJsonRoute)


@router.post(
    "/v1/uploads",
    status_code=status.HTTP_201_CREATED,
    response_model=UploadOut,
    responses=responses(400, 401, 403, 415, 422, 503),
    summary="Create an upload",
    description="Returns a presigned S3 PUT. Send the file with exactly the returned `headers` before `expires_at`. "
    "A `model_artifact` upload needs an admin key (only admins register model versions); `batch_input` a predict key.",
)
async def create_upload(body: CreateUploadRequest, caller: PredictCaller) -> UploadOut:
    upload, presigned = upload_service().create(caller, body.purpose, body.content_type, body.size)
    return UploadOut.of(upload, presigned)


handler = lambda_handler(router)
