"""The Lambda Invoke API for the local stack (what ``sam local start-lambda`` offers, without Docker).

Functions that invoke other functions with boto3 (the register-version function invokes the
artifact inspector) reach this server through ``AWS_ENDPOINT_URL_LAMBDA``; it runs the target's
handler in this process, as the local stack runs every function.
"""

import json
import re
import threading
import traceback
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tools.iam_audit import Decision, record
from tools.iam_policy import Effect, Request, decide
from tools.lambda_runtime import invoke
from tools.local_roles import LocalRoles
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
    def refusal(authorization: str, spec: FunctionSpec) -> str | None:
        access_key = authorization.partition("Credential=")[2].partition("/")[0]
        caller = roles.principal_of(access_key)
        request = Request("lambda:InvokeFunction", stack.arns[spec.logical_id])
        if caller is None:  # not a function's role: the operator, or credentials the emulator never issued
            allowed = access_key == roles.operator_access_key
            caller = "operator" if allowed else access_key or "anonymous"
        else:
            allowed = decide(roles.policies[caller], request) is Effect.ALLOW
        record(Decision(caller, request.action, request.resource, allowed))
        return (
            None
            if allowed
            else f"{caller} is not authorized to perform: {request.action} on resource: {request.resource}"
        )

    return refusal


Refusal = Callable[[str, FunctionSpec], str | None]  # (Authorization header, target) -> why refused, or None


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
            denied = refusal(self.headers.get("Authorization", ""), spec) if refusal else None
            if denied:
                self._reply(403, {"Type": "User", "Message": denied}, error_type="AccessDeniedException")
                return
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b"{}"
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
