"""Secrets read through Powertools Parameters, with the container's own Secrets Manager client (its timeouts
and retries; cached per container for ``max_age`` seconds)."""

from aws_lambda_powertools.utilities.parameters import SecretsProvider

from shared.adapters.clients import secretsmanager_client
from shared.kernel.container import per_container


@per_container
def _secrets() -> SecretsProvider:
    return SecretsProvider(boto3_client=secretsmanager_client())


def secret_bytes(secret_id: str, max_age: int) -> bytes:
    value = _secrets().get(secret_id, max_age=max_age)
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)  # type: ignore[arg-type]
