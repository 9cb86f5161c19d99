"""The key-minting command line against moto (table by name and via a stack's outputs)."""

import json
import os

import boto3
import pytest

from shared.keys.models import Scope
from shared.wiring import key_service
from tools.keys import main
from tools.provision import Stack


def test_mint_into_a_table_then_the_key_authenticates(stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["mint", "--tenant", "acme", "--table", os.environ["TABLE_NAME"]])

    printed = json.loads(capsys.readouterr().out)
    assert code == 0
    assert printed["scopes"] == ["admin"]
    caller = key_service().authenticate(printed["key"], Scope.ADMIN)
    assert (caller.tenant, caller.key_id) == ("acme", printed["id"])


def test_mint_through_a_stack_output(stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    cloudformation = boto3.client("cloudformation")
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"TableName": {"Value": os.environ["TABLE_NAME"]}},
    }
    cloudformation.create_stack(StackName="infergate", TemplateBody=json.dumps(template))

    code = main(["mint", "--tenant", "globex", "--stack-name", "infergate", "--scopes", "predict"])

    printed = json.loads(capsys.readouterr().out)
    assert code == 0
    assert key_service().authenticate(printed["key"], Scope.PREDICT).tenant == "globex"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["mint", "--tenant", "acme"], "say where"),
        (["mint", "--tenant", "Not Valid", "--table", "t"], "tenant"),
    ],
)
def test_usage_errors_exit_2(stack: Stack, capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err
