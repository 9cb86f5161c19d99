"""``infergate.webhooks.verify`` against webhooks signed by the reference ``standardwebhooks`` library."""

import base64
import json
import time
from datetime import UTC, datetime

import pytest
from infergate import WebhookVerificationError, webhooks
from standardwebhooks.webhooks import Webhook

SECRET = "whsec_" + base64.b64encode(b"a secret key of thirty-two bytes").decode()
OTHER = "whsec_" + base64.b64encode(b"another key, of thirty-two bytes").decode()
BODY = json.dumps({"type": "prediction.completed", "timestamp": "t", "data": {"id": "pred_1"}})


def signed(body: str = BODY, secret: str = SECRET, at: float | None = None, id: str = "dlv_1") -> dict[str, str]:
    moment = datetime.fromtimestamp(time.time() if at is None else at, tz=UTC)
    return {
        "webhook-id": id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(secret).sign(id, moment, body),
    }


def test_a_webhook_signed_by_the_reference_library_verifies_and_its_body_is_returned() -> None:
    assert webhooks.verify(BODY.encode(), signed(), SECRET) == json.loads(BODY)


def test_header_names_are_matched_in_any_case_and_the_body_may_be_text() -> None:
    headers = {name.title(): value for name, value in signed().items()}

    assert webhooks.verify(BODY, headers, SECRET)["data"] == {"id": "pred_1"}


def test_what_this_module_accepts_the_reference_library_accepts_too() -> None:
    headers = signed()

    assert Webhook(SECRET).verify(BODY, headers) == webhooks.verify(BODY, headers, SECRET)


def test_any_of_several_signatures_may_match_during_a_rotation() -> None:
    headers = signed(secret=OTHER)
    headers["webhook-signature"] += " " + signed()["webhook-signature"]

    assert webhooks.verify(BODY, headers, SECRET)


def test_a_tampered_body_is_refused() -> None:
    with pytest.raises(WebhookVerificationError, match="no signature"):
        webhooks.verify(BODY.replace("pred_1", "pred_2"), signed(), SECRET)


def test_a_tampered_id_is_refused() -> None:
    headers = signed() | {"webhook-id": "dlv_2"}

    with pytest.raises(WebhookVerificationError):
        webhooks.verify(BODY, headers, SECRET)


def test_another_secret_is_refused() -> None:
    with pytest.raises(WebhookVerificationError):
        webhooks.verify(BODY, signed(secret=OTHER), SECRET)


def test_an_old_webhook_is_refused_even_with_a_good_signature() -> None:
    with pytest.raises(WebhookVerificationError, match="too old"):
        webhooks.verify(BODY, signed(at=time.time() - 301), SECRET)


def test_a_webhook_from_the_future_is_refused() -> None:
    with pytest.raises(WebhookVerificationError, match="future"):
        webhooks.verify(BODY, signed(at=time.time() + 400), SECRET)


def test_the_tolerance_can_be_widened() -> None:
    assert webhooks.verify(BODY, signed(at=time.time() - 3000), SECRET, tolerance=3600)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_header_is_refused(missing: str) -> None:
    headers = signed()
    del headers[missing]

    with pytest.raises(WebhookVerificationError, match="missing"):
        webhooks.verify(BODY, headers, SECRET)


@pytest.mark.parametrize("signature", ["v2,abc", "v1,not base64!", "garbage", ""])
def test_an_unusable_signature_is_refused(signature: str) -> None:
    headers = signed() | {"webhook-signature": signature}

    with pytest.raises(WebhookVerificationError):
        webhooks.verify(BODY, headers, SECRET)


def test_a_timestamp_that_is_not_seconds_is_refused() -> None:
    headers = signed() | {"webhook-timestamp": "yesterday"}

    with pytest.raises(WebhookVerificationError, match="timestamp"):
        webhooks.verify(BODY, headers, SECRET)


def test_a_secret_that_is_not_base64_is_refused() -> None:
    with pytest.raises(WebhookVerificationError, match="secret"):
        webhooks.verify(BODY, signed(), "whsec_***")
