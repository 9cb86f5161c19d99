"""A presigned S3 URL checked as S3 checks it (tools.presigned_urls): expiry and a SigV4 query signature."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import boto3
import botocore.auth
import pytest
from botocore.config import Config
from botocore.credentials import Credentials

from tools.presigned_urls import presigned_refusal

CREDENTIALS = Credentials("ASIAEXAMPLEKEY", "secret", "session-token")


def presigned(operation: str, **params: object) -> tuple[str, dict[str, str]]:
    """(path and query, headers with Host) of a URL botocore presigns for 60 s."""
    s3 = boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:4566",
        aws_access_key_id=CREDENTIALS.access_key,
        aws_secret_access_key=CREDENTIALS.secret_key,
        aws_session_token=CREDENTIALS.token,
        config=Config(signature_version="s3v4"),
    )
    url = urlsplit(s3.generate_presigned_url(operation, Params={"Bucket": "b", **params}, ExpiresIn=60))
    return f"{url.path}?{url.query}", {"Host": url.netloc}


PUT_HEADERS = {"Content-Type": "application/jsonl", "Content-Length": "5"}


def test_the_request_a_url_was_signed_for_passes() -> None:
    path, headers = presigned("put_object", Key="uploads/a b", ContentType="application/jsonl", ContentLength=5)
    get_path, get_headers = presigned("get_object", Key="uploads/a", ResponseContentType="text/plain")

    assert presigned_refusal("PUT", path, {**headers, **PUT_HEADERS}, CREDENTIALS, datetime.now(UTC)) is None
    assert presigned_refusal("GET", get_path, get_headers, CREDENTIALS, datetime.now(UTC)) is None


@pytest.mark.parametrize(
    ("change", "method", "extra"),
    [
        ("another content type", "PUT", {"Content-Type": "text/html"}),
        ("another size", "PUT", {"Content-Length": "10"}),
        ("another method", "GET", {}),
    ],
)
def test_a_request_other_than_the_signed_one_does_not_match(change: str, method: str, extra: dict[str, str]) -> None:
    path, headers = presigned("put_object", Key="uploads/a", ContentType="application/jsonl", ContentLength=5)

    why = presigned_refusal(method, path, {**headers, **PUT_HEADERS, **extra}, CREDENTIALS, datetime.now(UTC))

    assert why is not None, change
    assert why.startswith("SignatureDoesNotMatch"), change


def test_another_key_another_secret_or_a_sigv2_url_does_not_match() -> None:
    path, headers = presigned("get_object", Key="uploads/a")

    assert presigned_refusal("GET", path.replace("uploads/a", "uploads/b"), headers, CREDENTIALS, datetime.now(UTC))
    assert presigned_refusal("GET", path, headers, Credentials("ASIAEXAMPLEKEY", "other", "t"), datetime.now(UTC))
    assert presigned_refusal(
        "GET", "/b/k?AWSAccessKeyId=A&Signature=s&Expires=1", headers, CREDENTIALS, datetime.now(UTC)
    )


def test_a_url_past_its_expiry_is_refused() -> None:
    path, headers = presigned("get_object", Key="uploads/a")

    assert presigned_refusal("GET", path, headers, CREDENTIALS, datetime.now(UTC) + timedelta(seconds=55)) is None
    assert presigned_refusal("GET", path, headers, CREDENTIALS, datetime.now(UTC) + timedelta(seconds=65)) == (
        "AccessDenied: Request has expired"
    )


def test_a_url_is_checked_as_of_when_it_was_signed_not_as_of_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """A signer asked to sign again would use the current time: the check must reuse the URL's own."""
    path, headers = presigned("get_object", Key="uploads/a")
    later = datetime.now(UTC) + timedelta(seconds=30)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: later.replace(tzinfo=None))

    assert presigned_refusal("GET", path, headers, CREDENTIALS, later) is None
