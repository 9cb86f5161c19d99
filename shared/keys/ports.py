"""What the key service needs from storage."""

from typing import Protocol

from shared.keys.models import ApiKey


class KeyStore(Protocol):
    def create(self, key: ApiKey, secret_hash: str, max_active: int | None = None) -> None:
        """Store the key and count it among its tenant's active keys, atomically; raise
        ``KeyLimitReachedError`` when the tenant already holds ``max_active`` (None: no cap)."""
        ...

    def find_by_hash(self, secret_hash: str) -> ApiKey | None:
        """Strongly consistent, so a revoked key stops working at once."""
        ...

    def list(self, tenant: str, limit: int, after: str | None) -> tuple[list[ApiKey], str | None]: ...

    def delete(self, tenant: str, key_id: str) -> None:
        """Delete the key and free its slot among the tenant's active keys; raise ``KeyNotFoundError``
        when the tenant has no such key."""
        ...
