"""moto in server mode, one request at a time.

moto's in-memory backends are not thread-safe (concurrent DynamoDB calls can fail inside moto with
"dictionary changed size during iteration"), while the local stack serves many requests at once.
This server runs moto's WSGI app under one lock, so every emulated AWS call is atomic, as each
real AWS call is. Calls are short: the local pollers do not long-poll (see ``tools.pollers``).
"""

import threading
from collections.abc import Iterable
from typing import Any

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server


class SerializedMotoServer(ThreadedMotoServer):
    def _server_entry(self) -> None:
        app = DomainDispatcherApplication(create_backend_app)
        lock = threading.Lock()

        def one_at_a_time(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
            with lock:
                return list(app(environ, start_response))  # the body is produced inside the lock

        self._server = make_server(
            self._ip_address, self._port, one_at_a_time, True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()
