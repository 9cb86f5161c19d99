"""Use cases of API keys: mint, list, revoke, authenticate."""

from collections.abc import Iterable

from shared.kernel.clock import to_rfc3339, utc_now
from shared.kernel.ids import IdKind, is_valid_id, new_id
from shared.kernel.observability import logger
from shared.kernel.pagination import CursorCodec, Page
from shared.keys.models import (
    ApiKey,
    AuthenticationError,
    Caller,
    KeyNotFoundError,
    PermissionDeniedError,
    Scope,
    generate_secret,
    grants,
    hash_secret,
    looks_like_key,
    validate_tenant,
)
from shared.keys.ports import KeyStore

LISTING = "keys"


class KeyService:
    def __init__(self, store: KeyStore, cursors: CursorCodec, max_keys_per_tenant: int | None = None) -> None:
        self._store = store
        self._cursors = cursors
        self._max_keys = max_keys_per_tenant  # active keys a tenant may hold (None: no cap, operator tools)

    def create(self, tenant: str, name: str, scopes: Iterable[Scope]) -> tuple[ApiKey, str]:
        """Return the key and its secret; the secret is never retrievable again. ``KeyLimitReachedError``
        when the tenant already holds its maximum of active keys."""
        secret = generate_secret()
        key = ApiKey(
            id=new_id(IdKind.KEY),
            tenant=validate_tenant(tenant),
            name=name,
            scopes=frozenset(scopes),
            created_at=to_rfc3339(utc_now()),
            last4=secret[-4:],
        )
        self._store.create(key, hash_secret(secret), self._max_keys)
        logger.info("api key created", extra={"key_id": key.id, "tenant": tenant, "scopes": sorted(key.scopes)})
        return key, secret

    def import_secret(self, tenant: str, name: str, scopes: Iterable[Scope], secret: str) -> ApiKey:
        """Register a caller-chosen secret (local stack seeding only); it must look like a real key."""
        if not looks_like_key(secret):
            raise AuthenticationError()
        key = ApiKey(
            new_id(IdKind.KEY), validate_tenant(tenant), name, frozenset(scopes), to_rfc3339(utc_now()), secret[-4:]
        )
        if self._store.find_by_hash(hash_secret(secret)) is None:
            self._store.create(key, hash_secret(secret), self._max_keys)
        return key

    def list(self, tenant: str, limit: int, cursor: str | None) -> Page[ApiKey]:
        return self._cursors.page(tenant, LISTING, limit, cursor, self._store.list)

    def revoke(self, tenant: str, key_id: str) -> None:
        if not is_valid_id(IdKind.KEY, key_id):
            raise KeyNotFoundError(key_id)
        self._store.delete(tenant, key_id)
        logger.info("api key revoked", extra={"key_id": key_id, "tenant": tenant})

    def authenticate(self, secret: str | None, needed: Scope) -> Caller:
        if not secret or not looks_like_key(secret):
            raise AuthenticationError()
        key = self._store.find_by_hash(hash_secret(secret))
        if key is None:
            raise AuthenticationError()
        if not grants(key.scopes, needed):
            raise PermissionDeniedError(needed)
        return Caller(tenant=key.tenant, principal_id=key.id, scopes=key.scopes)
