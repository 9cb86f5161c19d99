"""What the key service needs from storage."""

from typing import Protocol

from shared.keys.models import ApiKey


class KeyStore(Protocol):
    def create(self, key: ApiKey, secret_hash: str) -> None: ...

    def find_by_hash(self, secret_hash: str) -> ApiKey | None:
        """Strongly consistent, so a revoked key stops working at once."""
        ...

    def list(self, tenant: str, limit: int, after: str | None) -> tuple[list[ApiKey], str | None]: ...

    def delete(self, tenant: str, key_id: str) -> None:
        """Raise ``KeyNotFoundError`` when the tenant has no such key."""
        ...
