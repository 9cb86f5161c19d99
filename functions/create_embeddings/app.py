"""POST /v1/embeddings: OpenAI's embeddings API over the tenant's feature-extraction text models.

Its errors are OpenAI's shape, not RFC 9457 (``shared.api.problems.error_document`` chooses by route), so
OpenAI's SDKs and the tools built on them work unchanged. Carries the ModelsLayer: it runs the model.
"""

from fastapi import APIRouter

from shared.api.app import lambda_handler
from shared.api.auth import PredictCaller
from shared.api.jsonbody import StrictJsonRoute
from shared.api.openai_schemas import CreateEmbeddingsOut, CreateEmbeddingsRequest
from shared.api.openapi import Tag
from shared.api.problems import openai_responses
from shared.inference.embeddings import create_embeddings as embed
from shared.inference.errors import InvalidEmbeddingsRequestError
from shared.wiring import inference_service

router = APIRouter(tags=[Tag.EMBEDDINGS], route_class=StrictJsonRoute)
# Lambda returns at most 6 MB (6,291,456 bytes) from a synchronous invocation, envelope and headers included.
MAX_RESPONSE_BYTES = 6_000_000


@router.post(
    "/v1/embeddings",
    response_model=CreateEmbeddingsOut,
    responses=openai_responses(400, 401, 403, 404, 413, 415, 503),
    summary="Create embeddings (OpenAI-compatible)",
    description="OpenAI's embeddings API: one vector per text, from a `feature-extraction` text model. "
    'Errors are OpenAI\'s `{"error": {"message", "type", "param", "code"}}`.',
)
async def create_embeddings(body: CreateEmbeddingsRequest, caller: PredictCaller) -> CreateEmbeddingsOut:
    result = embed(inference_service(), caller.tenant, body.model, body.input, body.dimensions)
    out = CreateEmbeddingsOut.of(result, body.encoding_format)
    size = len(out.model_dump_json())
    if size > MAX_RESPONSE_BYTES:  # Lambda would drop the answer: say how to get one
        raise InvalidEmbeddingsRequestError(
            f"The answer would be {size:,} bytes, over the {MAX_RESPONSE_BYTES:,} a function may return: send "
            "fewer texts, or ask for encoding_format 'base64' (less than half the size).",
            "/input",
        )
    return out


handler = lambda_handler(router)
