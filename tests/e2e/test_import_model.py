"""``tools.import_model`` against the local stack: a folder laid out as ``optimum-cli export onnx`` writes it
is packed, uploaded through the presigned URL and registered in one step, then serves predictions; the
service's refusals come back as its problem detail with exit status 1."""

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import LocalStack
from tests.support import text_models
from tests.support.optimum_export import PACKED, write_export
from tools.import_model import main
from tools.template import ROOT

pytestmark = pytest.mark.e2e

TEXT = "The cat sat on the mat."


@pytest.fixture(scope="module")
def admin(local_stack: LocalStack) -> httpx.Client:
    return local_stack.client(local_stack.admin_key)


def test_an_export_imported_with_local_is_registered_and_embeds(
    local_stack: LocalStack, admin: httpx.Client, tmp_path: Path
) -> None:
    folder = write_export(tmp_path / "minilm-like")
    command = [sys.executable, "-m", "tools.import_model", str(folder), "--name", "e2e-imported", "--local"]
    options = ["--task", "feature-extraction", "--pooling", "mean", "--normalize"]
    env = {**os.environ, "INFERGATE_DEV_STATE_FILE": str(local_stack.state_file)}
    for variable in ("INFERGATE_API_KEY", "INFERGATE_BASE_URL"):
        env.pop(variable, None)

    done = subprocess.run([*command, *options], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr
    version = json.loads(done.stdout)
    assert (version["version"], version["runtime"]) == (1, "text")
    assert f"sha256 {version['artifact']['sha256']}" in done.stderr  # what was packed is what is registered
    assert version["text"]["dimension"] == text_models.DIM
    assert version["text"]["max_tokens"] == text_models.MAX_POSITIONS
    assert "note: skipped README.md" in done.stderr
    assert f"packed {', '.join(PACKED)}" in done.stderr
    predicted = admin.post("/v1/models/e2e-imported/predict", json={"input": {"text": TEXT}})
    assert predicted.status_code == 200, predicted.text
    want = text_models.expected_embedding(TEXT, normalize=True)
    assert predicted.json()["output"]["embedding"] == pytest.approx(want, abs=1e-6)
    # The admin key minted for the import was revoked once it was done.
    names = [key["name"] for key in admin.get("/v1/keys", params={"limit": 100}).json()["results"]]
    assert "import_model (temporary)" not in names


def test_a_classifier_imported_with_the_environment_serves_its_labels(
    local_stack: LocalStack,
    admin: httpx.Client,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = write_export(tmp_path / "classifier", "text-classification")
    monkeypatch.setenv("INFERGATE_BASE_URL", local_stack.base_url)
    monkeypatch.setenv("INFERGATE_API_KEY", local_stack.admin_key)

    code = main([str(folder), "--name", "e2e-imported-sst", "--task", "text-classification", "--top-k", "3"])

    assert code == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out)["text"]["labels"] == list(text_models.LABELS)
    predicted = admin.post("/v1/models/e2e-imported-sst/predict", json={"input": {"text": TEXT}})
    assert predicted.status_code == 200, predicted.text
    scores = {row["label"]: row["score"] for row in predicted.json()["output"]["labels"]}
    assert scores == pytest.approx(text_models.expected_scores(TEXT), abs=1e-6)


def test_a_bad_key_is_shown_as_the_services_problem_and_exits_1(
    local_stack: LocalStack, admin: httpx.Client, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_export(tmp_path / "export")
    where = ["--base-url", local_stack.base_url, "--api-key", "igk_notakeyofthisservice000000000000"]

    code = main([str(folder), "--name", "e2e-import-badkey", "--task", "feature-extraction", *where])

    err = capsys.readouterr().err
    assert code == 1
    assert "error: HTTP 401" in err
    assert '"instance": "/v1/uploads"' in err, err
    assert '"type": "urn:infergate:problem:unauthenticated"' in err, err
    assert admin.get("/v1/models/e2e-import-badkey").status_code == 404


def test_a_refusal_at_registration_is_shown_with_its_detail(
    local_stack: LocalStack, admin: httpx.Client, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Labels that the graph's three outputs do not match: only the service's trial run can tell."""
    folder = write_export(tmp_path / "classifier", "text-classification")
    (folder / "config.json").write_text(json.dumps(text_models.config("text-classification", ("no", "yes"))))
    where = ["--base-url", local_stack.base_url, "--api-key", local_stack.admin_key]

    code = main([str(folder), "--name", "e2e-import-refused", "--task", "text-classification", *where])

    err = capsys.readouterr().err
    assert code == 1
    assert "error: HTTP 422" in err
    assert '"instance": "/v1/models/e2e-import-refused/versions"' in err, err
    assert "has 3 columns, but config.json id2label names 2 labels" in err
    assert admin.get("/v1/models/e2e-import-refused").status_code == 404
