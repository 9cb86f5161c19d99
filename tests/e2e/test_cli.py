"""The ``infergate`` console script, run as a subprocess against the local stack."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import ADMIN_KEY, LocalStack

pytestmark = pytest.mark.e2e

INFERGATE = Path(sys.executable).with_name("infergate")


def infergate(stack: LocalStack, *argv: str, key: str = ADMIN_KEY) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "INFERGATE_BASE_URL": stack.base_url, "INFERGATE_API_KEY": key}
    return subprocess.run([str(INFERGATE), *argv], env=env, capture_output=True, text=True, timeout=120, check=False)


def test_predict_runs_a_built_in_model_and_async_predictions_can_be_fetched(local_stack: LocalStack) -> None:
    done = infergate(local_stack, "predict", "echo", "text=hello", "n=3", "zip==02134", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"text": "hello", "n": 3, "zip": "02134"}

    created = infergate(local_stack, "predict", "sentiment", "text=What a lovely day", "--async", "--json")
    assert created.returncode == 0, created.stderr
    prediction_id = json.loads(created.stdout)["id"]
    fetched = infergate(local_stack, "predictions", "get", prediction_id, "--json")
    assert fetched.returncode == 0, fetched.stderr
    assert json.loads(fetched.stdout)["id"] == prediction_id

    models = infergate(local_stack, "models", "list", "--json")
    assert models.returncode == 0, models.stderr
    assert {"echo", "sentiment"} <= {json.loads(line)["name"] for line in models.stdout.splitlines()}

    unknown = infergate(local_stack, "models", "show", "no-such-model")
    assert unknown.returncode == 4
    assert unknown.stdout == ""
    assert "request id: " in unknown.stderr
    # A prediction's body naming no model is a 422 of the API (the field is invalid): an input refused.
    refused = infergate(local_stack, "predict", "no-such-model", "text=hi", "--json")
    assert refused.returncode == 5
    assert json.loads(refused.stderr.splitlines()[-1])["errors"][0]["pointer"] == "/model"


def test_batches_run_writes_a_result_for_every_line(local_stack: LocalStack, tmp_path: Path) -> None:
    source, out, errors = tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "errors.jsonl"
    lines = [{"custom_id": f"c-{n}", "input": {"text": f"review {n} was great"}} for n in range(5)]
    lines.append({"custom_id": "bad", "input": {"text": 3}})
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    done = infergate(
        local_stack, "batches", "run", str(source), "--model", "sentiment", "--out", str(out),
        "--errors", str(errors), "--poll-interval", "0.2",
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    outputs = [json.loads(line) for line in out.read_text().splitlines()]
    failed = [json.loads(line) for line in errors.read_text().splitlines()]
    assert sorted(r["custom_id"] for r in outputs) == [f"c-{n}" for n in range(5)]
    assert all("label" in r["output"] for r in outputs)
    assert [(r["custom_id"], r["error"]["code"]) for r in failed] == [("bad", "invalid_input")]
    assert "completed, 6/6 lines done (1 failed)" in done.stderr  # the plain progress line: not a terminal
    assert done.stdout.startswith("batch bat")


def test_batches_run_refuses_an_unwritable_out_before_uploading(local_stack: LocalStack, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"custom_id": "a", "input": {"text": "fine"}}) + "\n")
    before = infergate(local_stack, "batches", "list", "--limit", "0", "--json").stdout.splitlines()
    done = infergate(
        local_stack, "batches", "run", str(source), "--model", "sentiment", "--out", str(tmp_path / "no" / "out.jsonl")
    )

    assert done.returncode == 2
    assert "cannot write --out" in done.stderr
    assert "Traceback" not in done.stderr
    after = infergate(local_stack, "batches", "list", "--limit", "0", "--json").stdout.splitlines()
    assert [json.loads(line)["id"] for line in after] == [json.loads(line)["id"] for line in before]  # none created


def test_keys_create_list_and_revoke(local_stack: LocalStack) -> None:
    created = infergate(local_stack, "keys", "create", "--name", "cli-e2e", "--scope", "predict", "--json")
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)
    assert key["key"].startswith("igk_")
    assert "not shown again" in created.stderr
    assert infergate(local_stack, "webhooks", "secret", key=key["key"]).stdout.startswith("key: whsec_")

    listed = infergate(local_stack, "keys", "list")
    assert key["id"] in listed.stdout
    assert key["key"] not in listed.stdout

    assert infergate(local_stack, "keys", "revoke", key["id"]).returncode == 0
    refused = infergate(local_stack, "models", "list", key=key["key"])
    assert refused.returncode == 3


def test_admin_mints_a_first_key_and_operates_the_dead_letter_queues_with_aws_credentials(
    local_stack: LocalStack,
) -> None:
    where = ("--local", "--state-file", str(local_stack.state_file))
    minted = infergate(
        local_stack, "admin", "keys", "mint", "--tenant", "initech", "--scope", "predict", *where, "--json"
    )
    assert minted.returncode == 0, minted.stderr
    key = json.loads(minted.stdout)
    assert (key["tenant"], key["scopes"]) == ("initech", ["predict"])
    assert "store the key" in minted.stderr
    works = infergate(local_stack, "predict", "echo", "n=1", "--json", key=key["key"])
    assert works.returncode == 0, works.stderr
    refused = infergate(local_stack, "keys", "list", key=key["key"])  # a predict key manages no keys
    assert refused.returncode == 3

    shown = infergate(local_stack, "admin", "dlq", "show", *where, "--json")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == ""  # the suite parks nothing on this stack
    redriven = infergate(local_stack, "admin", "dlq", "redrive", "batches", *where, "--json")
    assert redriven.returncode == 0, redriven.stderr
    assert json.loads(redriven.stdout) == {"queue": "batches", "redriven": 0}

    bad = infergate(local_stack, "admin", "keys", "mint", "--tenant", "Not Valid", *where)
    assert bad.returncode == 5
    assert "invalid-tenant" in bad.stderr
    nowhere = infergate(local_stack, "admin", "dlq", "show", "--local", "--state-file", "/nonexistent/state.json")
    assert nowhere.returncode == 2
    assert "no-local-stack" in nowhere.stderr
