"""The Lambda Invoke API for the local stack (what ``sam local start-lambda`` offers, without Docker).

Functions that invoke other functions with boto3 (the register-version function invokes the
artifact inspector) reach this server through ``AWS_ENDPOINT_URL_LAMBDA``; it runs the target's
handler in this process, as the local stack runs every function.
"""

import json
import re
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tools.lambda_runtime import invoke
from tools.provision import Stack
from tools.template import FunctionSpec, Template

_INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations$")


class LocalLambda:
    """A threaded HTTP server; ``endpoint`` is the value for ``AWS_ENDPOINT_URL_LAMBDA``."""

    def __init__(self, template: Template, stack: Stack) -> None:
        functions = {stack.refs[spec.logical_id]: spec for spec in template.functions}
        functions |= {stack.arns[spec.logical_id]: spec for spec in template.functions}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(functions))
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


def _handler_class(functions: dict[str, FunctionSpec]) -> type[BaseHTTPRequestHandler]:
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
