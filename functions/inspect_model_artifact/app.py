"""Invoked by the register-version function: prove an uploaded model file loads and runs, and store it by digest.

The only function besides the inference ones that carries onnxruntime (ModelsLayer), so the API
functions stay light. Returns ``{"result": {"ok": true, ...}}`` or ``{"result": {"ok": false, "reason"}}``.
"""

from pathlib import Path
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.kernel.observability import logged_invocation, logger
from shared.registry.inspector_contract import InspectRequest, InspectResponse
from shared.runtimes.artifact_checks import inspect_artifact
from shared.settings import ModelTimeSettings, RuntimeSettings, settings
from shared.wiring import object_store


@logged_invocation
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = InspectRequest.model_validate(event)
    scratch = Path(settings(RuntimeSettings).model_dir)
    scratch.mkdir(parents=True, exist_ok=True)
    result = inspect_artifact(request, object_store(), scratch, settings(ModelTimeSettings).registration_seconds)
    logger.info("artifact inspected", extra={"accepted": result.ok, "size": request.size})
    return InspectResponse(result=result).model_dump(mode="json")
