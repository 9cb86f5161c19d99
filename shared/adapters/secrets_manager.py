"""Secrets read through Powertools Parameters (cached per container for ``max_age`` seconds)."""

from aws_lambda_powertools.utilities import parameters

from shared.kernel.container import on_forget


def secret_bytes(secret_id: str, max_age: int) -> bytes:
    value = parameters.get_secret(secret_id, max_age=max_age)
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


@on_forget
def reset_secrets() -> None:
    """Forget cached values and providers (their clients are bound to the endpoint of first use)."""
    parameters.clear_caches()  # type: ignore[no-untyped-call]  # untyped upstream
