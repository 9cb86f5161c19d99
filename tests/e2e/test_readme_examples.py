"""The README's command-line and Python examples, run verbatim against the local stack.

Each ``<!-- example: NAME -->`` block is run as it is written: bash with the ``infergate`` command on
``PATH``, Python with the client installed, both configured by ``INFERGATE_BASE_URL`` and
``INFERGATE_API_KEY`` as a reader would be.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import LocalStack
from tests.support.onnx_models import linear_expected, linear_model, linear_schemas
from tools.template import ROOT

pytestmark = pytest.mark.e2e

_BLOCK = re.compile(
    r"<!-- example: (?P<name>[\w-]+) -->\s*```(?P<language>bash|python)\n(?P<code>.*?)```\s*<!-- /example -->", re.S
)
W = [[1.0, 0.5], [-2.0, 0.25], [0.5, 3.0], [0.0, 1.0]]
B = [0.1, -0.2]
X = [1.5, -2.0, 4.0, 0.5]  # what the README's model examples send


def examples() -> dict[str, tuple[str, str]]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return {m["name"]: (m["language"], m["code"]) for m in _BLOCK.finditer(readme)}


def run_example(stack: LocalStack, name: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    language, code = examples()[name]
    env = {
        **os.environ,
        "BASE": stack.base_url,
        "KEY": stack.admin_key,
        "INFERGATE_BASE_URL": stack.base_url,
        "INFERGATE_API_KEY": stack.admin_key,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    command = ["bash", "-c", "set -euo pipefail\n" + code] if language == "bash" else [sys.executable, "-c", code]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=180, check=False)


def test_every_example_in_the_readme_is_run_here() -> None:
    tested = {name.removeprefix("test_").replace("_", "-") for name in globals() if name.startswith("test_")}
    assert set(examples()) == {
        "walkthrough-cli",
        "walkthrough-python",
        "models-cli",
        "models-python",
        "batches-cli",
        "batches-python",
    }
    assert all(any(name.startswith(example) for name in tested) for example in examples())


def test_walkthrough_cli(local_stack: LocalStack, tmp_path: Path) -> None:
    done = run_example(local_stack, "walkthrough-cli", tmp_path)

    assert done.returncode == 0, done.stderr
    assert '"label": "positive"' in done.stdout
    assert re.search(r"^id: +pred_[0-9A-Z]{26}$", done.stdout, re.M)  # `predictions get`, for people
    assert re.search(r"^ID +MODEL +VERSION +STATUS", done.stdout, re.M)  # the list's table
    assert "refused with exit status 3" in done.stdout  # the revoked key
    assert "store the key" in done.stderr


def test_walkthrough_python(local_stack: LocalStack, tmp_path: Path) -> None:
    done = run_example(local_stack, "walkthrough-python", tmp_path)

    assert done.returncode == 0, done.stderr
    printed = done.stdout.splitlines()
    assert "'label': 'positive'" in printed[0]
    assert "'label': 'negative'" in printed[1]
    assert re.fullmatch(r"refused: 401 \S+", printed[-1])


def _model_files(folder: Path) -> None:
    (folder / "model.onnx").write_bytes(linear_model(W, B))
    input_schema, output_schema = linear_schemas(len(X))
    (folder / "input_schema.json").write_text(json.dumps(input_schema))
    (folder / "output_schema.json").write_text(json.dumps(output_schema))


def test_models_cli(local_stack: LocalStack, tmp_path: Path) -> None:
    _model_files(tmp_path)

    done = run_example(local_stack, "models-cli", tmp_path)

    assert done.returncode == 0, done.stderr
    output = json.loads(done.stdout[done.stdout.rindex("{\n") :])  # the prediction's output, printed last
    assert output["y"] == pytest.approx(linear_expected(W, B, X), rel=1e-6)
    assert re.search(r"^name: +my-model$", done.stdout, re.M)


def test_models_python(local_stack: LocalStack, tmp_path: Path) -> None:
    _model_files(tmp_path)

    done = run_example(local_stack, "models-python", tmp_path)

    assert done.returncode == 0, done.stderr
    registered, output = done.stdout.splitlines()
    assert registered == "registered version 1"
    expected = linear_expected(W, B, X)
    assert [round(v, 4) for v in eval(output)["y"]] == [round(v, 4) for v in expected]  # noqa: S307 - our own print


def _batch_file(folder: Path) -> None:
    lines = [{"custom_id": f"review-{n}", "input": {"text": f"Review {n}: a lovely, great product"}} for n in range(4)]
    lines.append({"custom_id": "no-text", "input": {"words": "the input schema wants text"}})
    (folder / "batch.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))


def test_batches_cli(local_stack: LocalStack, tmp_path: Path) -> None:
    _batch_file(tmp_path)

    done = run_example(local_stack, "batches-cli", tmp_path)

    assert done.returncode == 0, done.stderr
    outputs = [json.loads(line) for line in (tmp_path / "output.jsonl").read_text().splitlines()]
    errors = [json.loads(line) for line in (tmp_path / "errors.jsonl").read_text().splitlines()]
    assert sorted(o["custom_id"] for o in outputs) == [f"review-{n}" for n in range(4)]
    assert {o["output"]["label"] for o in outputs} == {"positive"}
    assert [e["custom_id"] for e in errors] == ["no-text"]
    assert re.search(r"4 output.jsonl\n\s*1 errors.jsonl", done.stdout)


def test_batches_python(local_stack: LocalStack, tmp_path: Path) -> None:
    _batch_file(tmp_path)

    done = run_example(local_stack, "batches-python", tmp_path)

    assert done.returncode == 0, done.stderr
    printed = done.stdout.splitlines()
    assert printed[-6].startswith("completed ")
    results = dict(line.split(" ", 1) for line in printed[-5:])
    assert sorted(results) == ["no-text", *(f"review-{n}" for n in range(4))]
    assert "'label': 'positive'" in results["review-0"]
    assert "invalid_input" in results["no-text"]
