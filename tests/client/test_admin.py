"""The operator commands' client side: finding the admin function, invoking it, reading its answers."""

import io
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, NoCredentialsError, ReadTimeoutError
from infergate.admin import (
    INVOKE_READ_TIMEOUT,
    Admin,
    AdminCommandError,
    AdminError,
    AdminTarget,
    AdminTargetError,
)
from infergate.cli import main
from moto import mock_aws


class FakeLambda:
    """Answers each invoke with the next of ``answers`` (a payload, or ``(payload, function_error)``)."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.invoked: list[tuple[str, dict[str, Any]]] = []

    def invoke(self, FunctionName: str, Payload: bytes) -> dict[str, Any]:  # noqa: N803 - boto3's names
        self.invoked.append((FunctionName, json.loads(Payload)))
        answer = self.answers.pop(0)
        payload, error = answer if isinstance(answer, tuple) else (answer, None)
        response: dict[str, Any] = {"Payload": io.BytesIO(json.dumps(payload).encode())}
        if error:
            response["FunctionError"] = error
        return response


TARGET = AdminTarget("infergate-RunAdminCommandFunction-abc")
_ADMIN_INIT = Admin.__init__


def test_mint_sends_the_command_and_answers_the_result() -> None:
    minted = {"id": "key_1", "tenant": "acme", "name": "ops", "scopes": ["predict"], "key": "igk_x"}
    fake = FakeLambda({"result": minted})

    assert Admin(TARGET, fake).mint_key("acme", "ops", ["predict"]) == minted
    assert fake.invoked == [
        (TARGET.function_name, {"command": "mint-key", "tenant": "acme", "name": "ops", "scopes": ["predict"]})
    ]


def test_a_redrive_calls_again_while_the_function_says_there_is_more() -> None:
    fake = FakeLambda(
        {"result": {"queue": "batches", "redriven": 1000, "more": True}},
        {"result": {"queue": "batches", "redriven": 7, "more": False}},
    )

    assert Admin(TARGET, fake).redrive("batches") == 1007
    assert [command for _, command in fake.invoked] == [{"command": "redrive", "queue": "batches"}] * 2


def test_dead_letters_are_the_messages_of_the_answer() -> None:
    parked = [{"queue": "predictions", "message_id": "m1", "receive_count": 5, "sent_timestamp": 1, "body": {}}]
    fake = FakeLambda({"result": {"messages": parked, "truncated": []}})

    assert Admin(TARGET, fake).dead_letters("predictions", 5) == {"messages": parked, "truncated": []}
    assert fake.invoked[0][1] == {"command": "show-dead-letters", "queue": "predictions", "limit": 5}


@pytest.mark.parametrize(
    ("answer", "error", "kind"),
    [
        ({"error": {"type": "invalid-tenant", "detail": "A tenant is ..."}}, AdminCommandError, "invalid-tenant"),
        (({"errorMessage": "boom", "errorType": "RuntimeError"}, "Unhandled"), AdminError, "function-error"),
        ({"something": "else"}, AdminError, "unexpected-answer"),
        (None, AdminError, "unexpected-answer"),
    ],
)
def test_what_the_function_could_not_do_is_raised_with_its_kind(answer: Any, error: type[Exception], kind: str) -> None:
    with pytest.raises(error) as raised:
        Admin(TARGET, FakeLambda(answer)).mint_key("acme")

    assert isinstance(raised.value, AdminError)
    assert raised.value.kind == kind


def test_the_local_target_is_read_from_the_stack_state_file(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text(
        json.dumps(
            {
                "lambda_endpoint_url": "http://127.0.0.1:4010",
                "operator": {"access_key_id": "AKIAOPERATOR", "secret_access_key": "secret"},
                "resources": {"RunAdminCommandFunction": "local-RunAdminCommandFunction"},
            }
        )
    )

    target = AdminTarget.local(state)

    assert target == AdminTarget(
        "local-RunAdminCommandFunction", "us-east-1", "http://127.0.0.1:4010", "AKIAOPERATOR", "secret"
    )
    with pytest.raises(AdminTargetError, match="make dev"):
        AdminTarget.local(tmp_path / "missing.json")


@mock_aws
def test_a_deployed_stack_is_found_by_its_output(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    cloudformation = boto3.client("cloudformation", region_name="eu-west-1")
    topic = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}
    with_output = {**topic, "Outputs": {"AdminFunctionName": {"Value": "infergate-RunAdminCommandFunction-abc"}}}
    cloudformation.create_stack(StackName="infergate", TemplateBody=json.dumps(with_output))
    cloudformation.create_stack(StackName="older", TemplateBody=json.dumps(topic))

    assert AdminTarget.of_stack("infergate", "eu-west-1").function_name == "infergate-RunAdminCommandFunction-abc"
    with pytest.raises(AdminTargetError, match="no AdminFunctionName output"):
        AdminTarget.of_stack("older", "eu-west-1")
    with pytest.raises(AdminTargetError, match="stack-not-found"):
        AdminTarget.of_stack("missing", "eu-west-1")


def run_cli(monkeypatch: pytest.MonkeyPatch, fake: FakeLambda, *argv: str) -> tuple[int, str, str]:
    monkeypatch.setattr(AdminTarget, "of_stack", classmethod(lambda cls, name, region=None: TARGET))

    def with_fake(self: Admin, target: AdminTarget, lambda_client: Any = None) -> None:
        _ADMIN_INIT(self, target, fake)

    monkeypatch.setattr(Admin, "__init__", with_fake)
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=stdout, stderr=stderr)
    return code, stdout.getvalue(), stderr.getvalue()


def test_the_cli_prints_the_minted_key_and_warns_on_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    minted = {"id": "key_1", "tenant": "acme", "name": "bootstrap admin", "scopes": ["admin"], "key": "igk_x"}
    fake = FakeLambda({"result": minted})

    code, out, err = run_cli(monkeypatch, fake, "admin", "keys", "mint", "--tenant", "acme", "--stack-name", "s")

    assert code == 0
    assert "key:    igk_x" in out
    assert "store the key key_1 now" in err
    assert fake.invoked[0][1]["scopes"] == ["admin"]


def test_the_cli_lists_dead_letters_as_a_table_or_json_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    parked = {"queue": "webhooks", "message_id": "m1", "receive_count": 20, "sent_timestamp": 1, "body": {"a": 1}}
    answer = {"result": {"messages": [parked], "truncated": []}}

    _, table, _ = run_cli(monkeypatch, FakeLambda(answer), "admin", "dlq", "show", "--stack-name", "s")
    code, lines, _ = run_cli(monkeypatch, FakeLambda(answer), "admin", "dlq", "show", "--stack-name", "s", "--json")

    assert table.splitlines() == ["QUEUE     MESSAGE  RECEIVES  BODY", "webhooks  m1       20        a=1"]
    assert (code, [json.loads(line) for line in lines.splitlines()]) == (0, [parked])


def test_the_cli_reports_the_total_redriven(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeLambda({"result": {"queue": "predictions", "redriven": 3, "more": False}})

    code, out, _ = run_cli(monkeypatch, fake, "admin", "dlq", "redrive", "predictions", "--stack-name", "s")

    assert (code, out) == (0, "redriven 3 from the predictions dead-letter queue\n")


def test_a_refused_command_exits_5_and_a_missing_target_2(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    refused = FakeLambda({"error": {"type": "invalid-tenant", "detail": "A tenant is 1-63 ..."}})

    code, out, err = run_cli(monkeypatch, refused, "admin", "keys", "mint", "--tenant", "X Y", "--stack-name", "s")
    missing = main(
        ["admin", "dlq", "show", "--local", "--state-file", str(tmp_path / "none.json")], stderr=io.StringIO()
    )
    unsaid = main(["admin", "dlq", "show"], stderr=io.StringIO())

    assert (code, out) == (5, "")
    assert "invalid-tenant" in err
    assert (missing, unsaid) == (2, 2)


def test_a_truncated_listing_says_which_queues_hold_more(monkeypatch: pytest.MonkeyPatch) -> None:
    answer = {"result": {"messages": [], "truncated": ["webhooks"]}}

    code, _, err = run_cli(monkeypatch, FakeLambda(answer), "admin", "dlq", "show", "--stack-name", "s", "--limit", "1")

    assert code == 0
    assert "more are parked in: webhooks" in err


class FailingLambda:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def invoke(self, FunctionName: str, Payload: bytes) -> dict[str, Any]:  # noqa: N803 - boto3's names
        raise self.error


@pytest.mark.parametrize(
    "error",
    [
        ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}}, "Invoke"),
        NoCredentialsError(),
        ReadTimeoutError(endpoint_url="https://lambda"),
    ],
)
def test_an_aws_failure_is_an_admin_error_naming_it(error: Exception) -> None:
    with pytest.raises(AdminError) as raised:
        Admin(TARGET, FailingLambda(error)).mint_key("acme")

    assert raised.value.kind == "aws-error"


def test_an_answer_that_is_not_json_is_an_admin_error() -> None:
    class Garbled:
        def invoke(self, FunctionName: str, Payload: bytes) -> dict[str, Any]:  # noqa: N803
            return {"Payload": io.BytesIO(b"<html>")}

    with pytest.raises(AdminError, match="no JSON"):
        Admin(TARGET, Garbled()).mint_key("acme")


def test_the_invoke_waits_past_the_functions_timeout_and_is_never_resent() -> None:
    """botocore retries a read timeout by default: a second mint would make a second live key."""
    admin = Admin(AdminTarget("f", region="us-east-1", access_key_id="AKIA", secret_access_key="s"))

    config = admin._lambda.meta.config
    assert config.read_timeout == INVOKE_READ_TIMEOUT  # longer than the function may run (a contract test)
    assert config.retries["total_max_attempts"] == 1


def test_a_target_never_shows_its_secret() -> None:
    assert "s3cr3t" not in repr(AdminTarget("f", secret_access_key="s3cr3t"))


@pytest.mark.parametrize("content", ["{not json", '{"resources": {}}', "[]"])
def test_a_malformed_state_file_is_a_target_error(tmp_path: Path, content: str) -> None:
    state = tmp_path / "state.json"
    state.write_text(content)

    with pytest.raises(AdminTargetError, match=r"restart|not a local stack"):
        AdminTarget.local(state)
