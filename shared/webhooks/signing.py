"""Standard Webhooks signatures, made by the reference implementation (the ``standardwebhooks`` package)."""

import base64
import secrets
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format prefix, not a secret


def generate_secret() -> str:
    """``whsec_`` + base64 of 32 random bytes, the format every Standard Webhooks library accepts."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def signature_header(message_id: str, timestamp: int, body: str, keys: list[str]) -> str:
    """``v1,<sig>`` for each key, space-separated (several while a rotated secret is in its grace period)."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return " ".join(Webhook(key).sign(message_id, moment, body) for key in keys)
