"""Secrets read through Powertools Parameters, with the container's own Secrets Manager client (its timeouts
and retries; cached per container for ``max_age`` seconds)."""

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import BotoCoreError, ClientError

from shared.adapters.clients import secretsmanager_client
from shared.adapters.dynamodb.table import error_code
from shared.kernel.container import per_container
from shared.kernel.errors import TransientError

_TRANSIENT = frozenset({"ThrottlingException", "InternalServiceError"})


@per_container
def _secrets() -> SecretsProvider:
    return SecretsProvider(boto3_client=secretsmanager_client())


def secret_bytes(secret_id: str, max_age: int) -> bytes:
    """The secret's value. Secrets Manager timing out, unreachable or throttled (after the client's retry) is a
    ``TransientError`` (503 with ``Retry-After``); anything else, a refusal included, stays Powertools' error."""
    try:
        value = _secrets().get(secret_id, max_age=max_age)
    except GetParameterError as exc:
        cause = exc.__context__  # Powertools raises its own error inside the handler of the SDK's
        if isinstance(cause, BotoCoreError) or (isinstance(cause, ClientError) and error_code(cause) in _TRANSIENT):
            raise TransientError("Secrets Manager could not be reached") from exc
        raise
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)  # type: ignore[arg-type]
