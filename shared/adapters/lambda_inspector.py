"""Lambda adapter for the artifact inspector: a synchronous invoke of the inspector function."""

import json
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from shared.kernel.errors import TransientError
from shared.kernel.observability import logger
from shared.registry.inspector_contract import Accepted, InspectRequest, InspectResponse, Rejected

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient


class LambdaArtifactInspector:
    def __init__(self, function_name: str, client: "LambdaClient") -> None:
        self._function_name = function_name
        self._client = client

    def inspect(self, request: InspectRequest) -> Accepted | Rejected:
        try:
            response = self._client.invoke(
                FunctionName=self._function_name,
                InvocationType="RequestResponse",
                Payload=request.model_dump_json().encode(),
            )
        except (ClientError, BotoCoreError) as exc:
            raise TransientError("the model artifact inspector could not be reached") from exc
        payload = response["Payload"].read()
        if response.get("FunctionError"):
            logger.error("artifact inspector failed", extra={"error": payload[:500].decode("utf-8", "replace")})
            raise TransientError("the model artifact inspector failed; retry the request")
        try:
            return InspectResponse.model_validate(json.loads(payload)).result
        except (ValueError, ValidationError) as exc:
            raise TransientError("the model artifact inspector answered something unexpected") from exc
