"""moto in server mode, one request at a time.

moto's in-memory backends are not thread-safe (concurrent DynamoDB calls can fail inside moto with
"dictionary changed size during iteration"), while the local stack serves many requests at once.
This server runs moto's WSGI app under one lock, so every emulated AWS call is atomic, as each
real AWS call is. Calls are short: the local pollers do not long-poll (see ``tools.pollers``).

``make dev`` runs it in a process of its own (``EmulatorProcess``), with ``tools.moto_speedups``.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import uvicorn
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from tools import moto_iam, moto_speedups

_ROOT = Path(__file__).resolve().parents[1]


def serialized_moto_app() -> Callable[[dict[str, Any], Any], Iterable[bytes]]:
    """moto's WSGI app, serving one request at a time."""
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def one_at_a_time(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        with lock:
            return list(app(environ, start_response))  # the body is produced inside the lock

    return one_at_a_time


class EmulatorProcess:
    """The serialized moto server in a process of its own: its work no longer competes with the
    API and the queue workers for one interpreter lock, so the local stack uses a second core."""

    def __init__(self, ip_address: str, port: int) -> None:
        self._address = (ip_address, port)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint_url(self) -> str:
        host, port = self._address
        return f"http://{host}:{port}"

    def start(self, timeout: float = 30.0) -> None:
        host, port = self._address
        self._process = subprocess.Popen([sys.executable, "-m", "tools.emulator", host, str(port)], cwd=_ROOT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the AWS emulator exited with {self._process.returncode}")
            try:
                socket.create_connection(self._address, timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"the AWS emulator did not listen on {host}:{port} within {timeout} s")

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


def _exit_with_parent() -> None:
    """Never outlive the local stack, even one killed with SIGKILL."""
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


class _StoppedBySigtermOnly(uvicorn.Server):
    """Ctrl-C reaches the stack's whole process group; the emulator ignores it so the stack can drain
    its pollers against it first, then stops it with SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, self.handle_exit)
        yield


def main() -> None:
    """``python -m tools.emulator HOST PORT``: serve until SIGTERM or until the parent process ends."""
    host, port = sys.argv[1], int(sys.argv[2])
    moto_speedups.install()
    moto_iam.install()  # judged as IAM would, once the local stack switches authentication on
    threading.Thread(target=_exit_with_parent, daemon=True).start()
    # uvicorn keeps connections alive; moto's own werkzeug server closes each one after a response,
    # so every AWS call paid for a new connection and a new thread.
    config = uvicorn.Config(
        serialized_moto_app(), host=host, port=port, interface="wsgi", log_level="warning", access_log=False
    )
    _StoppedBySigtermOnly(config).run()


if __name__ == "__main__":
    main()
