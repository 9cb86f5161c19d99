"""The Lambda Invoke API for the local stack (what ``sam local start-lambda`` offers, without Docker).

Functions that invoke other functions with boto3 (the register-version function invokes the
artifact inspector) reach this server through ``AWS_ENDPOINT_URL_LAMBDA``; it runs the target's
handler in this process, as the local stack runs every function.
"""

import hmac
import json
import re
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tools.aws_identity import AccessKey
from tools.aws_permissions import CONTEXT_KEYS
from tools.iam_audit import Decision, record
from tools.iam_policy import Effect, Request, decide
from tools.lambda_runtime import invoke
from tools.local_roles import OPERATOR, LocalRoles
from tools.provision import Stack
from tools.template import FunctionSpec, Template

_INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations$")


class LocalLambda:
    """A threaded HTTP server; ``endpoint`` is the value for ``AWS_ENDPOINT_URL_LAMBDA``.

    With ``roles``, a caller's ``lambda:InvokeFunction`` is judged against its role, as Lambda does;
    only a function's role or the operator may invoke.
    """

    def __init__(self, template: Template, stack: Stack, roles: LocalRoles | None = None) -> None:
        functions = {stack.refs[spec.logical_id]: spec for spec in template.functions}
        functions |= {stack.arns[spec.logical_id]: spec for spec in template.functions}
        refusal = _refusal_of(stack, roles) if roles else None
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(functions, refusal))
        self._server.daemon_threads = True
        # A short poll interval: shutdown() waits for the serve loop's next poll (0.5 s by default).
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="local-lambda", daemon=True
        )

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> "LocalLambda":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _refusal_of(stack: Stack, roles: LocalRoles) -> "Refusal":
    def refusal(invocation: "Invocation", spec: FunctionSpec) -> str | None:
        authorization = invocation.headers.get("authorization", "")
        access_key = authorization.partition("Credential=")[2].partition("/")[0]
        holder = roles.identify(access_key)
        request = Request("lambda:InvokeFunction", stack.arns[spec.logical_id])
        if holder is None or not _signed_by(invocation, holder[1]):
            caller = holder[0] if holder else access_key or "anonymous"
            record(Decision(caller, request.action, request.resource, False, "signature"))
            return "The request signature we calculated does not match the signature you provided."
        caller = holder[0]
        allowed = caller == OPERATOR or decide(roles.policies[caller], request, CONTEXT_KEYS) is Effect.ALLOW
        record(Decision(caller, request.action, request.resource, allowed))
        if allowed:
            return None
        return f"{caller} is not authorized to perform: {request.action} on resource: {request.resource}"

    return refusal


@dataclass(frozen=True)
class Invocation:
    """An Invoke request as it arrived: what its SigV4 signature covers."""

    method: str
    path: str
    headers: Mapping[str, str]  # names in lower case
    body: bytes


def _signed_by(invocation: Invocation, key: AccessKey) -> bool:
    """Whether ``key`` signed the request (SigV4, recomputed as Lambda's front end would)."""
    authorization = invocation.headers.get("authorization", "")
    scope = authorization.partition("Credential=")[2].partition(",")[0].split("/")
    signed = authorization.partition("SignedHeaders=")[2].partition(",")[0].split(";")
    if len(scope) < 5 or "x-amz-date" not in invocation.headers:
        return False
    request = AWSRequest(
        method=invocation.method,
        url=f"http://{invocation.headers.get('host', '')}{invocation.path}",
        data=invocation.body,
        headers={name: invocation.headers.get(name, "") for name in signed},
    )
    request.context["timestamp"] = invocation.headers["x-amz-date"]
    auth = SigV4Auth(Credentials(key.access_key, key.secret_key, key.token), "lambda", scope[2])
    expected = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
    return hmac.compare_digest(expected, authorization.partition("Signature=")[2].strip())


Refusal = Callable[[Invocation, FunctionSpec], str | None]  # (the request, its target) -> why refused, or None


def _handler_class(functions: dict[str, FunctionSpec], refusal: Refusal | None) -> type[BaseHTTPRequestHandler]:
    class InvokeHandler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            match = _INVOKE_PATH.match(self.path.split("?", 1)[0])
            spec = functions.get(match.group("name")) if match else None
            if spec is None:
                self._reply(
                    404, {"Type": "User", "message": "Function not found"}, error_type="ResourceNotFoundException"
                )
                return
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b"{}"
            invocation = Invocation(
                "POST", self.path, {name.lower(): value for name, value in self.headers.items()}, raw if length else b""
            )
            denied = refusal(invocation, spec) if refusal else None
            if denied:
                self._reply(403, {"Type": "User", "Message": denied}, error_type="AccessDeniedException")
                return
            try:
                result = invoke(spec, json.loads(raw or b"{}"))
            except Exception as exc:  # noqa: BLE001 - reported the way Lambda reports an unhandled error
                body = {
                    "errorMessage": str(exc),
                    "errorType": type(exc).__name__,
                    "stackTrace": traceback.format_tb(exc.__traceback__),
                }
                self._reply(200, body, function_error="Unhandled")
                return
            self._reply(200, result)

        def _reply(
            self, status: int, body: Any, *, function_error: str | None = None, error_type: str | None = None
        ) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("X-Amz-Executed-Version", "$LATEST")
            if function_error:
                self.send_header("X-Amz-Function-Error", function_error)
            if error_type:
                self.send_header("X-Amzn-ErrorType", error_type)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return InvokeHandler
