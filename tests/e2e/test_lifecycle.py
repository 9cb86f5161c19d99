"""`make dev` prints what a developer needs and stops cleanly on Ctrl-C, leaving no process behind."""

import os
import signal
import subprocess
import sys

import httpx
import pytest

from tests.e2e.conftest import _free_port, _group_alive, _wait_until_up
from tools.template import ROOT

pytestmark = pytest.mark.e2e


def test_ctrl_c_stops_everything(tmp_path: object) -> None:
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "INFERGATE_DEV_ADMIN_KEY"},
        "PORT": str(port),
        "INFERGATE_DEV_STATE_FILE": f"{tmp_path}/state.json",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "tools.devstack"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base_url, process)
        assert os.path.exists(f"{tmp_path}/state.json")

        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)

        assert process.returncode == 0, output
        assert f"API        {base_url}" in output
        assert f"Swagger UI {base_url}/docs" in output
        assert "admin key  igk_" in output  # generated when INFERGATE_DEV_ADMIN_KEY is not set
        assert "stopped" in output
        assert not _group_alive(process.pid)
        assert not os.path.exists(f"{tmp_path}/state.json")
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{base_url}/v1/health", timeout=1.0)
    finally:
        if _group_alive(process.pid):
            os.killpg(process.pid, signal.SIGKILL)
