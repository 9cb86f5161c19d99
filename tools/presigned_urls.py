"""A presigned S3 URL checked as S3 checks it: unexpired, and signed (SigV4, query string) by its credential
over its method, path, query and the headers it names (a presigned PUT signs Content-Type and
Content-Length, so another type or size is refused). moto checks neither; ``tools.moto_iam`` asks here."""

import hmac
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode

from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

_AUTH_PARAMETERS = frozenset(
    {
        "x-amz-algorithm",
        "x-amz-credential",
        "x-amz-date",
        "x-amz-expires",
        "x-amz-signedheaders",
        "x-amz-signature",
        "x-amz-security-token",
    }
)


def presigned_refusal(
    method: str, path_and_query: str, headers: Mapping[str, str], credentials: Credentials, now: datetime
) -> str | None:
    """Why S3 would refuse this presigned request (``Request has expired``, ``SignatureDoesNotMatch``), or None.

    ``path_and_query`` is the request's path and query string as sent; ``headers`` its headers (any case).
    """
    path, _, query = path_and_query.partition("?")
    pairs = parse_qsl(query, keep_blank_values=True)
    values = {name.lower(): value for name, value in pairs}
    if "x-amz-signature" not in values:
        return "SignatureDoesNotMatch: not a SigV4 presigned URL"
    signed_at = datetime.strptime(values.get("x-amz-date", ""), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    expires = int(values.get("x-amz-expires", "0"))
    if now > signed_at + timedelta(seconds=expires):
        return "AccessDenied: Request has expired"
    by_name = {name.lower(): value for name, value in headers.items()}
    signed_headers = {name: by_name.get(name, "") for name in values.get("x-amz-signedheaders", "host").split(";")}
    kept = [(name, value) for name, value in pairs if name.lower() not in _AUTH_PARAMETERS]
    url = f"http://{signed_headers.get('host', 'localhost')}{path}" + (f"?{urlencode(kept)}" if kept else "")
    request = AWSRequest(method=method, url=url, headers=signed_headers)
    region = values.get("x-amz-credential", "///").split("/")[2]
    auth = S3SigV4QueryAuth(credentials, "s3", region, expires=expires)
    # add_auth() would sign as of now: the steps it takes, as of when the URL was signed.
    request.context["timestamp"] = values["x-amz-date"]
    auth._modify_request_before_signing(request)  # type: ignore[attr-defined]  # untyped in the stubs
    expected = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
    if not hmac.compare_digest(expected, values["x-amz-signature"]):
        return "SignatureDoesNotMatch: the request is not the one its credential signed"
    return None
