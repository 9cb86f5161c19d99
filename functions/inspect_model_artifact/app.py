"""Invoked by the register-version function: prove an uploaded model file loads and runs, and store it by digest.

The only function besides the inference ones that carries onnxruntime (ModelsLayer), so the API
functions stay light. Returns ``{"result": {"ok": true, ...}}`` or ``{"result": {"ok": false, "reason"}}``.
"""

from pathlib import Path
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.observability import logger
from shared.registry.inspection import InspectRequest, InspectResponse
from shared.runtimes.inspect import inspect_artifact
from shared.services import object_store
from shared.settings import model_time_settings, runtime_settings


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = InspectRequest.model_validate(event)
    scratch = Path(runtime_settings().model_dir)
    scratch.mkdir(parents=True, exist_ok=True)
    result = inspect_artifact(request, object_store(), scratch, model_time_settings().registration_seconds)
    logger.info("artifact inspected", extra={"accepted": result.ok, "size": request.size})
    return InspectResponse(result=result).model_dump(mode="json")
