"""``Idempotency-Key`` claims: what makes a repeated create "the same", and the errors a replay raises."""

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.kernel.errors import ConflictError
from shared.kernel.jsoncodec import dumps

IDEMPOTENCY_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class IdempotencyClaim:
    """``Idempotency-Key`` of a create: stored with the prediction (or batch), in the same write, for 24 hours."""

    key_hash: str  # sha256 of the caller's key: the key itself is never stored
    fingerprint: str  # sha256 of the canonical request
    expires_at: int

    @classmethod
    def of(cls, key: str | None, request: Mapping[str, Any], now: datetime) -> "IdempotencyClaim | None":
        """The claim of an ``Idempotency-Key`` (None without one) on ``request`` (what makes it "the same")."""
        if key is None:
            return None
        return cls(
            key_hash=hashlib.sha256(key.encode("utf-8")).hexdigest(),
            fingerprint=hashlib.sha256(dumps(dict(request)).encode("utf-8")).hexdigest(),
            expires_at=int((now + IDEMPOTENCY_WINDOW).timestamp()),
        )


class IdempotentReplayError(Exception):
    """The key was used before (within its 24 hours): raised by the store instead of creating."""

    def __init__(self, resource_id: str, fingerprint: str) -> None:
        super().__init__("idempotency key already used")
        self.resource_id = resource_id  # the prediction (or batch) the key created
        self.fingerprint = fingerprint


class IdempotencyConflictError(ConflictError):
    def __init__(self) -> None:
        super().__init__("This Idempotency-Key was used with a different request in the last 24 hours.")
