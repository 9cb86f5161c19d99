"""API key domain types, scopes, and errors."""

import hashlib
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from shared.kernel.errors import ConflictError, InfergateError, InvalidRequestError, NotFoundError

KEY_PREFIX = "igk_"
_TENANT_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_KEY_PATTERN = re.compile(r"^igk_[A-Za-z0-9_-]{22,128}$")


class Scope(StrEnum):
    PREDICT = "predict"
    ADMIN = "admin"


class Credential(StrEnum):
    """What a caller presented: an Infergate API key, or a JWT that API Gateway's authorizer verified."""

    API_KEY = "api_key"
    JWT = "jwt"


def grants(held: frozenset[Scope], needed: Scope) -> bool:
    """``admin`` implies ``predict``."""
    return needed in held or Scope.ADMIN in held


@dataclass(frozen=True)
class ApiKey:
    id: str
    tenant: str
    name: str
    scopes: frozenset[Scope]
    created_at: str
    last4: str


@dataclass(frozen=True)
class Caller:
    """Who is calling: resolved on every request from a valid key or a verified token.

    ``principal_id`` is what the per-caller rate limit counts: the key's id, or for a token a stable
    stand-in for its issuer and subject (``shared.keys.claims``).
    """

    tenant: str
    principal_id: str
    scopes: frozenset[Scope]
    credential: Credential = Credential.API_KEY


def generate_secret() -> str:
    """256 bits from the OS CSPRNG, URL-safe."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """SHA-256 is right for high-entropy random keys (no password stretching needed)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def looks_like_key(secret: str) -> bool:
    return _KEY_PATTERN.fullmatch(secret) is not None


def is_tenant(value: str) -> bool:
    return _TENANT_PATTERN.fullmatch(value) is not None


def validate_tenant(tenant: str) -> str:
    if not is_tenant(tenant):
        raise InvalidTenantError(tenant)
    return tenant


class AuthenticationError(InfergateError):
    def __init__(self) -> None:
        super().__init__("A valid API key is required: send 'Authorization: Bearer <key>'.")


class PermissionDeniedError(InfergateError):
    def __init__(self, needed: Scope, credential: Credential = Credential.API_KEY) -> None:
        holder = "API key" if credential is Credential.API_KEY else "token"
        super().__init__(f"This {holder} lacks the '{needed.value}' scope.")
        self.needed = needed


class KeyNotFoundError(NotFoundError):
    def __init__(self, key_id: str) -> None:
        super().__init__("There is no such API key.")


class InvalidTenantError(InvalidRequestError):
    def __init__(self, tenant: str) -> None:
        super().__init__("A tenant is 1-63 lower-case letters, digits or '-', starting with a letter or digit.")
        self.tenant = tenant


class KeyLimitReachedError(ConflictError):
    """The tenant already holds as many active keys as it may (409): revoking one frees a slot."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"This tenant already has its maximum of {limit} active API keys; revoke one before creating another."
        )
        self.limit = limit
