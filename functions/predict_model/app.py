"""Synchronous inference: ``POST /v1/models/{name}/predict`` and the Open Inference Protocol infer routes.

The only API function that carries the model dependencies (ModelsLayer): its warm containers keep
the loaded models, whichever of its routes is called.
"""

from typing import Any

from fastapi import APIRouter, Request, Response

from shared.api.app import lambda_handler
from shared.api.auth import PredictCaller
from shared.api.jsonbody import StrictJsonRoute
from shared.api.oip_schemas import INFER_REQUEST_SCHEMA, InferResponseOut
from shared.api.openapi import Tag
from shared.api.params import ModelRefPath, OipModelNamePath, OipModelVersionPath
from shared.api.problems import oip_responses, responses
from shared.api.schemas import SyncPredictionOut, SyncPredictRequest
from shared.inference.oip import infer
from shared.oip.codec import HEADER_LENGTH
from shared.wiring import inference_service

router = APIRouter(route_class=StrictJsonRoute)


@router.post(
    "/v1/models/{name}/predict",
    response_model=SyncPredictionOut,
    responses=responses(400, 401, 403, 404, 413, 415, 422, 503),
    summary="Predict synchronously",
    tags=[Tag.MODELS],
    description="Runs the model now and returns its output; the same output an asynchronous prediction gets.",
)
async def predict_model(name: ModelRefPath, body: SyncPredictRequest, caller: PredictCaller) -> SyncPredictionOut:
    return SyncPredictionOut.of(inference_service().predict(caller.tenant, name, body.input))


_INFER_DOC: dict[str, Any] = {
    "responses": oip_responses(400, 401, 403, 404, 413, 422, 503),
    "response_model": InferResponseOut,
    "tags": [Tag.OPEN_INFERENCE_PROTOCOL],
    "description": "KServe V2 infer with JSON tensors. Triton's binary tensor data extension is accepted too "
    f"(documented here as JSON only, which generated clients can send): an `{HEADER_LENGTH}` header giving the "
    'length of the leading JSON header, then the tensors\' bytes. Errors are `{"error": ...}`.',
    "openapi_extra": {
        "requestBody": {"required": True, "content": {"application/json": {"schema": INFER_REQUEST_SCHEMA}}}
    },
}


@router.post("/v2/models/{model_name}/infer", summary="OIP: infer", **_INFER_DOC)
async def infer_model(model_name: OipModelNamePath, caller: PredictCaller, request: Request) -> Response:
    return await _infer(caller.tenant, model_name, None, request)


@router.post("/v2/models/{model_name}/versions/{model_version}/infer", summary="OIP: infer (version)", **_INFER_DOC)
async def infer_model_version(
    model_name: OipModelNamePath, model_version: OipModelVersionPath, caller: PredictCaller, request: Request
) -> Response:
    return await _infer(caller.tenant, model_name, model_version, request)


async def _infer(tenant: str, model_name: str, model_version: str | None, request: Request) -> Response:
    body = await request.body()
    header_length = request.headers.get(HEADER_LENGTH)
    encoding = request.headers.get("content-encoding")
    content, headers = infer(inference_service(), tenant, model_name, model_version, body, header_length, encoding)
    return Response(content=content, headers=headers, media_type=headers.get("Content-Type"))


handler = lambda_handler(router)
