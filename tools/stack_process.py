"""The local stack (`make dev`'s command) as a subprocess: started, waited for, stopped like a developer would.

Used by the end-to-end tests and the benchmarks that measure the stack over real HTTP.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tools.iam_audit import AUDIT_DIR_VARIABLE, Decision, read_folder
from tools.template import ROOT

START_TIMEOUT = 90.0


@dataclass(frozen=True)
class LocalStack:
    base_url: str
    admin_key: str
    state_file: Path
    process: "subprocess.Popen[str]"
    audit_dir: Path  # what its emulated IAM decided (``tools.iam_audit``)
    jwt_base_url: str | None = None  # the JWT callers' API, when started with JWT_ISSUER

    def jwt_client(self, token: str) -> httpx.Client:
        if self.jwt_base_url is None:
            raise RuntimeError("this stack was started without JWT_ISSUER: it has no JWT callers' API")
        return httpx.Client(base_url=self.jwt_base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30.0)

    def refusals(self) -> list[Decision]:
        """Every call IAM refused so far: a function's role lacked what it did, or a tool used no credentials."""
        return [decision for decision in read_folder(self.audit_dir) if not decision.allowed]

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30.0)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_up(base_url: str, process: "subprocess.Popen[str]", log_file: Path | None = None) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            output += log_file.read_text(encoding="utf-8", errors="replace") if log_file else ""
            raise RuntimeError(f"local stack exited with {process.returncode}:\n{output[-4000:]}")
        try:
            if httpx.get(f"{base_url}/v1/health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise TimeoutError("local stack did not come up")


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def spawn_local_stack(
    port: int,
    state_file: Path,
    admin_key: str | None,
    models_dir: Path,
    settings: dict[str, str] | None = None,
    log_file: Path | None = None,
) -> "subprocess.Popen[str]":
    """`make dev`'s command, in its own process group, with no real AWS settings inherited.

    Its output goes to ``log_file`` when given: a pipe nobody reads would fill up and block the stack.
    """
    inherited = ("AWS_", "WEBHOOK", "INFERGATE_DEV_ADMIN_KEY", "RATE_LIMIT_", "TENANT_RATE_LIMIT_", "MAX_KEYS_", "JWT_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(inherited)}
    env.update({"PORT": str(port), "INFERGATE_DEV_STATE_FILE": str(state_file), "PYTHONUNBUFFERED": "1"})
    env["INFERGATE_DEV_MODELS_DIR"] = str(models_dir)  # what `make dev` builds first
    env.update(settings or {})
    if admin_key:
        env["INFERGATE_DEV_ADMIN_KEY"] = admin_key
    return subprocess.Popen(
        [sys.executable, "-m", "tools.devstack"],
        cwd=ROOT,
        env=env,
        stdout=log_file.open("w", encoding="utf-8") if log_file else subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


@contextmanager
def running_stack(folder: Path, settings: dict[str, str], admin_key: str, models_dir: Path) -> Iterator[LocalStack]:
    """A local stack for the duration of the block, stopped with Ctrl-C (SIGINT) like a developer would."""
    port = free_port()
    state_file = folder / "state.json"
    log_file = folder / "stack.log"
    audit_dir = folder / "iam"  # this stack's own; and any folder the caller records every decision in
    audit_dir.mkdir(parents=True, exist_ok=True)
    audit_dirs = os.pathsep.join(filter(None, [str(audit_dir), os.environ.get(AUDIT_DIR_VARIABLE)]))
    settings = {AUDIT_DIR_VARIABLE: audit_dirs, **settings}
    process = spawn_local_stack(port, state_file, admin_key, models_dir, settings, log_file)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base_url, process, log_file)
        jwt_base_url = json.loads(state_file.read_text(encoding="utf-8")).get("jwt_base_url")
        yield LocalStack(base_url, admin_key, state_file, process, audit_dir, jwt_base_url)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        finally:
            if group_alive(process.pid):
                os.killpg(process.pid, signal.SIGKILL)
