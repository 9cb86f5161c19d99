"""`make dev` prints what a developer needs and stops cleanly on Ctrl-C, leaving no process behind."""

import json
import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.support.builtin_model import built_models_dir
from tools.stack_process import free_port as _free_port
from tools.stack_process import group_alive as _group_alive
from tools.stack_process import spawn_local_stack
from tools.stack_process import wait_until_up as _wait_until_up

pytestmark = pytest.mark.e2e


def test_ctrl_c_stops_everything(tmp_path: Path) -> None:
    port = _free_port()
    state_file = tmp_path / "state.json"
    process = spawn_local_stack(port, state_file, admin_key=None, models_dir=built_models_dir())
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base_url, process)
        assert state_file.exists()
        aws_endpoint = json.loads(state_file.read_text(encoding="utf-8"))["aws_endpoint_url"]

        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)

        assert process.returncode == 0, output
        assert f"API        {base_url}" in output
        assert f"Swagger UI {base_url}/docs" in output
        assert "admin key  igk_" in output  # generated when INFERGATE_DEV_ADMIN_KEY is not set
        assert "stopped" in output
        assert not _group_alive(process.pid)
        assert not state_file.exists()
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{base_url}/v1/health", timeout=1.0)
        with pytest.raises(httpx.TransportError):  # the AWS emulator (a child process) is gone too
            httpx.get(aws_endpoint, timeout=1.0)
    finally:
        if _group_alive(process.pid):
            os.killpg(process.pid, signal.SIGKILL)


def test_the_aws_emulator_does_not_outlive_a_killed_stack(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    port = _free_port()
    process = spawn_local_stack(port, state_file, admin_key=None, models_dir=built_models_dir())
    try:
        _wait_until_up(f"http://127.0.0.1:{port}", process)
        aws_endpoint = json.loads(state_file.read_text(encoding="utf-8"))["aws_endpoint_url"]
        os.kill(process.pid, signal.SIGKILL)  # the stack only, and no clean-up code of it runs
        process.wait(timeout=10)

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                httpx.get(aws_endpoint, timeout=1.0)
            except httpx.TransportError:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the emulator kept running after its stack was killed")
    finally:
        if _group_alive(process.pid):
            os.killpg(process.pid, signal.SIGKILL)


def test_a_malformed_dev_admin_key_is_refused_before_anything_starts(tmp_path: Path) -> None:
    process = spawn_local_stack(
        _free_port(), tmp_path / "state.json", admin_key="igk_short", models_dir=built_models_dir()
    )

    output, _ = process.communicate(timeout=60)

    assert process.returncode == 2
    assert "INFERGATE_DEV_ADMIN_KEY must look like igk_" in output
    assert not (tmp_path / "state.json").exists()
