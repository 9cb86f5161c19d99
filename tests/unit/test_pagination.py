"""Cursors are opaque, authenticated, bound to tenant and listing, and expire."""

import pytest

from shared.kernel.pagination import CURSOR_LIFETIME_SECONDS, CursorCodec, InvalidCursorError

NOW = 1_800_000_000.0


def _codec(secret: bytes = b"s" * 32, now: float = NOW) -> CursorCodec:
    return CursorCodec(lambda: secret, clock=lambda: now)


def test_round_trip() -> None:
    cursor = _codec().encode("acme", "predictions", "pred_X")

    assert _codec().decode("acme", "predictions", cursor) == "pred_X"
    assert "pred_X" not in cursor  # opaque, even if only base64


@pytest.mark.parametrize(
    ("tenant", "listing"), [("globex", "predictions"), ("acme", "keys")], ids=["foreign tenant", "other listing"]
)
def test_a_cursor_is_bound_to_its_tenant_and_listing(tenant: str, listing: str) -> None:
    cursor = _codec().encode("acme", "predictions", "pred_X")

    with pytest.raises(InvalidCursorError):
        _codec().decode(tenant, listing, cursor)


def test_a_tampered_payload_is_refused() -> None:
    _, signature = _codec().encode("acme", "predictions", "pred_X").split(".")
    forged = _codec(secret=b"attacker").encode("acme", "predictions", "pred_Y").split(".")[0]

    with pytest.raises(InvalidCursorError):
        _codec().decode("acme", "predictions", f"{forged}.{signature}")


def test_a_cursor_signed_with_another_secret_is_refused() -> None:
    cursor = _codec(secret=b"other").encode("acme", "predictions", "pred_X")

    with pytest.raises(InvalidCursorError):
        _codec().decode("acme", "predictions", cursor)


def test_an_expired_cursor_is_refused() -> None:
    cursor = _codec().encode("acme", "predictions", "pred_X")

    with pytest.raises(InvalidCursorError):
        _codec(now=NOW + CURSOR_LIFETIME_SECONDS + 1).decode("acme", "predictions", cursor)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "!!!.???", "x" * 5000, "e30.AAAA"])
def test_garbage_is_refused_not_crashing(garbage: str) -> None:
    with pytest.raises(InvalidCursorError):
        _codec().decode("acme", "predictions", garbage)


def test_a_validly_signed_cursor_with_a_malformed_payload_is_refused() -> None:
    import base64
    import hashlib
    import hmac

    for body in (b"[1]", b"not json", b'{"p": 1, "e": 9999999999}'):
        payload = base64.urlsafe_b64encode(body).rstrip(b"=").decode()
        mac = hmac.new(b"s" * 32, f"acme|predictions|{payload}".encode(), hashlib.sha256).digest()
        signature = base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
        with pytest.raises(InvalidCursorError):
            _codec().decode("acme", "predictions", f"{payload}.{signature}")
