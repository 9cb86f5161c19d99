"""Pages and opaque, tamper-proof cursors bound to one tenant and one listing.

A cursor is ``base64url(payload).base64url(HMAC-SHA256(secret, tenant|listing|payload))``; the payload
holds the position to resume after and an expiry. A forged, foreign or expired cursor is refused.
"""

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from shared.kernel.errors import BadRequestError

T = TypeVar("T")

CURSOR_LIFETIME_SECONDS = 24 * 3600
MAX_CURSOR_LENGTH = 1024


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


class InvalidCursorError(BadRequestError):
    def __init__(self) -> None:
        super().__init__("The cursor is not valid for this listing; start again without one.")


class CursorCodec:
    """Signs and checks cursors. ``secret`` is called on each use so a rotated secret is picked up."""

    def __init__(self, secret: Callable[[], bytes], clock: Callable[[], float] = time.time) -> None:
        self._secret = secret
        self._clock = clock

    def encode(self, tenant: str, listing: str, position: str) -> str:
        payload = _b64encode(json.dumps({"p": position, "e": int(self._clock()) + CURSOR_LIFETIME_SECONDS}).encode())
        return f"{payload}.{self._sign(tenant, listing, payload)}"

    def page(
        self,
        tenant: str,
        listing: str,
        limit: int,
        cursor: str | None,
        fetch: Callable[[str, int, str | None], tuple[list[T], str | None]],
    ) -> Page[T]:
        """One page of ``listing``: ``fetch(tenant, limit, after)`` reads it from the position ``cursor`` holds."""
        after = self.decode(tenant, listing, cursor) if cursor else None
        items, position = fetch(tenant, limit, after)
        return Page(items, self.encode(tenant, listing, position) if position else None)

    def decode(self, tenant: str, listing: str, cursor: str) -> str:
        if len(cursor) > MAX_CURSOR_LENGTH or not cursor.isascii() or cursor.count(".") != 1:
            raise InvalidCursorError()
        payload, signature = cursor.split(".")
        if not hmac.compare_digest(signature, self._sign(tenant, listing, payload)):
            raise InvalidCursorError()
        try:
            body = json.loads(_b64decode(payload))
        except (ValueError, binascii.Error):
            raise InvalidCursorError() from None
        if not isinstance(body, dict):
            raise InvalidCursorError()
        position, expires = body.get("p"), body.get("e")
        if not isinstance(position, str) or not isinstance(expires, int) or expires < self._clock():
            raise InvalidCursorError()
        return position

    def _sign(self, tenant: str, listing: str, payload: str) -> str:
        message = f"{tenant}|{listing}|{payload}".encode()
        return _b64encode(hmac.new(self._secret(), message, hashlib.sha256).digest())


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
