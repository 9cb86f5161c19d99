"""The app's SAM translation of template.yaml is the SAM CLI's, for everything the local stack reads.

``tools.translate`` runs the ``samtranslator`` of the app's environment; ``sam validate`` and
``sam deploy`` run the one the SAM CLI carries (``.venv-sam``). This test translates the template with
the SAM CLI's own validator code in its own interpreter, so a drift between the two translators (or in
how each side reads the YAML and replaces local folders) fails here instead of in a deployment.
"""

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tools.template import ROOT, TEMPLATE_PATH, load_template, read_functions

# The interpreter of the SAM CLI that `make pytest` passes in SAM_CLI (.venv-sam's by default).
SAM_PYTHON = Path(os.environ.get("SAM_CLI") or ROOT / ".venv-sam" / "bin" / "sam").parent / "python"
# What `sam validate` does, with a managed-policy loader that asks IAM nothing (as tools.translate's).
CLI_TRANSLATION = """
import json, sys
from samcli.lib.translate.sam_template_validator import SamTemplateValidator
from samcli.yamlhelper import yaml_parse

class NoIamCall:
    def load(self):
        return {}

with open(sys.argv[1], encoding="utf-8") as template:
    validator = SamTemplateValidator(yaml_parse(template.read()), NoIamCall(), region="us-east-1")
sys.stdout.write(json.dumps(yaml_parse(validator.get_translated_template_if_valid())))
"""
# The resources the local stack reads: functions and their aliases, versions and layers, execution
# roles, queue event sources, schedules, and the HTTP API (whose OpenAPI body holds the routes).
READ_TYPES = {
    "AWS::Lambda::Function",
    "AWS::Lambda::Alias",
    "AWS::Lambda::Version",
    "AWS::Lambda::LayerVersion",
    "AWS::IAM::Role",
    "AWS::Lambda::EventSourceMapping",
    "AWS::Scheduler::Schedule",
    "AWS::Events::Rule",
    "AWS::ApiGatewayV2::Api",
}


@pytest.fixture(scope="module")
def cli_translation() -> dict[str, Any]:
    assert SAM_PYTHON.is_file(), f"the SAM CLI's interpreter is missing at {SAM_PYTHON}: run `make pytest`"
    env = {name: value for name, value in os.environ.items() if name not in {"AWS_PROFILE", "PYTHONPATH"}}
    env.update(
        {
            "SAM_CLI_TELEMETRY": "0",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }
    )
    completed = subprocess.run(
        [str(SAM_PYTHON), "-c", CLI_TRANSLATION, str(TEMPLATE_PATH)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    translated: dict[str, Any] = json.loads(completed.stdout)
    return translated


def _read(translated: dict[str, Any]) -> dict[str, Any]:
    return {name: res for name, res in translated["Resources"].items() if res["Type"] in READ_TYPES}


def test_the_resources_the_local_stack_reads_are_translated_as_the_sam_cli_translates_them(
    cli_translation: dict[str, Any],
) -> None:
    ours = _read(load_template().translated)
    theirs = _read(cli_translation)

    assert sorted(ours) == sorted(theirs)
    different = [name for name in ours if ours[name] != theirs[name]]
    assert different == [], "the app's samtranslator and the SAM CLI's translate these differently"


def test_the_functions_read_from_either_translation_are_the_same(cli_translation: dict[str, Any]) -> None:
    template = load_template()

    assert read_functions(template, cli_translation) == template.functions
