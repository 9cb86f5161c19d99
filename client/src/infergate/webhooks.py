"""Verifying a webhook as a receiver (Standard Webhooks): the signature over ``id.timestamp.body``, and its age.

payload = infergate.webhooks.verify(request_body, request_headers, secret)   # the parsed JSON body
"""

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

from infergate.errors import WebhookVerificationError

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix of every secret, not one
DEFAULT_TOLERANCE = 300


def verify(
    body: bytes | str,
    headers: Mapping[str, str],
    secret: str,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> Any:
    """The webhook's JSON body, once its signature and timestamp check out; ``WebhookVerificationError`` if not.

    ``headers`` are the request's (any case). ``secret`` is ``whsec_<base64>``, as
    ``client.webhooks.secret()`` answers it. A timestamp more than ``tolerance`` seconds from ``now``
    (either way) is refused, so a captured request cannot be replayed later.
    """
    data = body.encode() if isinstance(body, str) else body
    found = {name.lower(): value for name, value in headers.items()}
    webhook_id = found.get("webhook-id")
    timestamp = found.get("webhook-timestamp")
    signatures = found.get("webhook-signature")
    if not (webhook_id and timestamp and signatures):
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature")
    _check_timestamp(timestamp, tolerance, time.time() if now is None else now)
    expected = hmac.new(_key(secret), f"{webhook_id}.{timestamp}.".encode() + data, hashlib.sha256).digest()
    if not any(hmac.compare_digest(expected, given) for given in _v1_signatures(signatures)):
        raise WebhookVerificationError("no signature matches the secret")
    try:
        return json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise WebhookVerificationError("the signed body is not JSON") from error


def _key(secret: str) -> bytes:
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError) as error:
        raise WebhookVerificationError("the secret is not whsec_ followed by base64") from error
    if not key:
        raise WebhookVerificationError("the secret is empty")
    return key


MAX_TIMESTAMP_DIGITS = 12  # seconds until the year 33658: longer is no timestamp (and int() of 4300+ digits raises)


def _check_timestamp(timestamp: str, tolerance: int, now: float) -> None:
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > MAX_TIMESTAMP_DIGITS:
        raise WebhookVerificationError("webhook-timestamp is not a number of seconds")
    age = now - int(timestamp)
    if age > tolerance:
        raise WebhookVerificationError("the webhook is too old")
    if age < -tolerance:
        raise WebhookVerificationError("the webhook's timestamp is in the future")


def _v1_signatures(header: str) -> list[bytes]:
    """Each ``v1,<base64>`` signature of the space-separated header (others are ignored)."""
    found = []
    for part in header.split():
        version, _, encoded = part.partition(",")
        if version != "v1":
            continue
        try:
            found.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue
    return found
