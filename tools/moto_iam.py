"""IAM enforcement in the emulator that refuses what AWS would refuse, installed into moto.

moto authenticates a request (the SigV4 signature of an IAM user's or an assumed role's credentials)
once its authentication is switched on, but then judges it coarsely: a DynamoDB or Secrets Manager
call is checked against resource ``*`` (so a policy naming the table's ARN never allows it), an unmet
condition counts as an explicit deny, ``ForAllValues:StringLike`` is not evaluated, and a presigned S3
URL (credentials in the query string) fails. :func:`install` keeps moto's authentication and replaces
the judgement: each call becomes the IAM requests AWS would evaluate (``tools.aws_permissions``),
judged against the principal's policies by ``tools.iam_policy``, and recorded (``tools.iam_audit``).

The operator stands in for the Lambda service when it assumes a function's role, so a role's trust
policy (which names ``lambda.amazonaws.com``) is not evaluated.
"""

import contextlib
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from moto import settings
from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import AccessDeniedError, JsonRESTError
from moto.dynamodb.models import dynamodb_backends
from moto.iam.access_control import IAMRequestBase, S3IAMRequest
from moto.iam.models import Policy
from moto.s3.models import s3_backends
from moto.secretsmanager.models import secretsmanager_backends

from tools.aws_permissions import CONTEXT_KEYS, deleted_object_keys, dynamodb_requests, sqs_action
from tools.iam_audit import Decision, record
from tools.iam_policy import Effect, Request, decide
from tools.presigned_urls import presigned_refusal

_installed = False


def install() -> None:
    """Judge every emulated call as IAM would, once moto's authentication is on (idempotent)."""
    global _installed
    if not _installed:
        ActionAuthenticatorMixin._authenticate_and_authorize_action = _authorize  # type: ignore[method-assign]
        _installed = True


def _authorize(self: Any, iam_request_cls: type[IAMRequestBase], resource: str = "*") -> None:
    if ActionAuthenticatorMixin.request_count < settings.INITIAL_NO_AUTH_ACTION_COUNT:
        ActionAuthenticatorMixin.request_count += 1
        return
    if self.headers.get("X-Amz-Target") in ActionAuthenticatorMixin.PUBLIC_OPERATIONS:
        return
    parsed = urlparse(self.uri)
    path = self.raw_path + (f"?{parsed.query}" if parsed.query else "")
    headers, presigned = _signed_headers(self.headers, self.querystring)
    action = self._get_action()
    try:
        iam_request = iam_request_cls(
            account_id=self.current_account,
            method=self.method,
            path=path,
            data=self.data,
            body=self.raw_body,
            headers=headers,
            action=action,
        )
    except Exception:
        record(Decision(_access_key_id(headers), f"{self.service_name}:{action}", resource, allowed=False))
        if _speaks_json(self):
            raise JsonRESTError(
                "UnrecognizedClientException", "The security token included in the request is invalid."
            ) from None
        raise
    access_key = iam_request._access_key
    principal = _principal_name(access_key.arn)
    if presigned:  # checked as S3 does; moto would take any URL naming a key it issued
        why = presigned_refusal(self.method, path, headers, access_key.create_credentials(), datetime.now(UTC))
        if why:
            record(Decision(principal, iam_request._action, resource, allowed=False, reason=why))
            iam_request._raise_access_denied()
    else:
        try:
            iam_request.check_signature()
        except Exception:
            record(Decision(principal, iam_request._action, resource, allowed=False, reason="signature"))
            raise
    policies = [_document(policy) for policy in access_key.collect_policies()]
    for request in _requests(self, iam_request._action, resource):
        allowed = decide(policies, request, CONTEXT_KEYS) is Effect.ALLOW
        record(Decision(principal, request.action, request.resource, allowed))
        if not allowed:
            if iam_request_cls is S3IAMRequest:
                iam_request._raise_access_denied()
            detail = f"{request.action} on resource: {request.resource} because no identity-based policy allows it"
            if _speaks_json(self):
                message = f"User: {access_key.arn} is not authorized to perform: {detail}"
                raise JsonRESTError("AccessDeniedException", message)
            raise AccessDeniedError(user_arn=access_key.arn, action=detail)


def _s3_requests(response: Any, action: str, resource: str) -> list[Request]:
    """An S3 call's requests: ``DeleteObjects`` per key; a copy also reads its source; and reading a key
    that does not exist also needs ``s3:ListBucket`` on its bucket (without it S3 answers 403, not 404)."""
    if action == "s3:DeleteObject" and "delete" in parse_qs(urlparse(response.uri).query, keep_blank_values=True):
        return [Request(action, f"{resource}/{key}") for key in deleted_object_keys(response.raw_body)]
    requests = [Request(action, resource)]
    source = unquote(str(response.headers.get("x-amz-copy-source") or "")).lstrip("/").split("?", 1)[0]
    if source and action == "s3:PutObject":
        requests.append(Request("s3:GetObject", f"arn:aws:s3:::{source}"))
    if action == "s3:GetObject" or source:
        bucket, _, key = (source or resource.removeprefix("arn:aws:s3:::")).partition("/")
        if key and s3_backends[response.current_account]["aws"].get_object(bucket, key) is None:
            requests.append(Request("s3:ListBucket", f"arn:aws:s3:::{bucket}"))
    return requests


def _speaks_json(response: Any) -> bool:
    """DynamoDB, SQS and Secrets Manager answer errors in JSON, as their clients expect."""
    return "json" in str(response.headers.get("Content-Type", ""))


def _requests(response: Any, action: str, resource: str) -> list[Request]:
    service = action.split(":", 1)[0]
    region = response.region
    account = response.current_account
    if service == "dynamodb":

        def hash_key_of(table: str) -> str | None:
            try:
                return dynamodb_backends[account][region].get_table(table).hash_key_attr
            except Exception:  # noqa: BLE001 - no such table: the call fails on its own
                return None

        body = _json_body(response)
        return dynamodb_requests(action.split(":", 1)[1], body, region, account, hash_key_of)
    if service == "sqs":
        return [Request(sqs_action(action.split(":", 1)[1]), resource)]
    if service == "s3":
        return _s3_requests(response, action, resource)
    if service == "secretsmanager" and resource == "*":
        secret_id = str(_json_body(response).get("SecretId"))
        # No such secret: judged on "*", then the call fails on its own.
        with contextlib.suppress(Exception):
            resource = secretsmanager_backends[account][region].describe_secret(secret_id).arn
    return [Request(action, resource)]


def _json_body(response: Any) -> dict[str, Any]:
    body = response.body or "{}"
    parsed: dict[str, Any] = body if isinstance(body, dict) else json.loads(body)
    return parsed


def _document(policy: Any) -> dict[str, Any]:
    """A policy as moto's backend hands it out: a managed ``Policy``, a JSON text, or an inline policy's dict."""
    if isinstance(policy, Policy):
        policy = next(version.document for version in policy.versions if version.is_default)
    elif isinstance(policy, dict) and "policy_document" in policy:
        policy = policy["policy_document"]
    document: dict[str, Any] = json.loads(policy) if isinstance(policy, str) else policy
    return document


def _signed_headers(headers: Any, query: dict[str, Any]) -> tuple[dict[str, str], bool]:
    """The request's headers; for a presigned URL, with its query's credentials as headers (so moto finds the
    access key; a SigV2 URL is then refused by ``presigned_refusal``)."""
    copied = dict(headers.items())
    values = {name.lower(): items[0] if isinstance(items, list) else items for name, items in query.items()}
    if "Authorization" in copied or not ({"x-amz-credential", "awsaccesskeyid"} & set(values)):
        return copied, False
    credential = values.get("x-amz-credential") or f"{values['awsaccesskeyid']}/00000000/us-east-1/s3/aws4_request"
    copied["Authorization"] = f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, Signature=presigned"
    copied.setdefault("X-Amz-Date", values.get("x-amz-date", ""))
    if "x-amz-security-token" in values:
        copied["X-Amz-Security-Token"] = values["x-amz-security-token"]
    return copied, True


def _access_key_id(headers: dict[str, str]) -> str:
    return headers.get("Authorization", "").partition("Credential=")[2].partition("/")[0] or "anonymous"


def _principal_name(arn: str) -> str:
    """``…:assumed-role/<role>/<session>`` -> the session (a function's logical id); ``…:user/<name>`` -> name."""
    return arn.rsplit("/", 1)[-1]
