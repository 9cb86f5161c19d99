"""The least-privilege report (tools.iam_report): granted actions against the calls the tests recorded."""

from pathlib import Path

import pytest

from tools.iam_audit import Decision
from tools.iam_report import REPORT_END, REPORT_START, main, report, role_uses, with_report
from tools.template import load_template

CREATE = "CreatePredictionFunction"


def calls(function: str, *actions: str, allowed: bool = True) -> list[Decision]:
    return [
        Decision(function, action, "arn:aws:dynamodb:us-east-1:123456789012:table/t", allowed) for action in actions
    ]


def test_an_action_granted_and_called_is_used_and_one_never_called_is_reported() -> None:
    decisions = calls(CREATE, "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:GetItem")
    decisions += calls(CREATE, "sqs:SendMessage", allowed=False)  # a refusal is no use of a grant

    [create] = [use for use in role_uses(load_template(), decisions) if use.function == CREATE]

    assert create.used == {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:GetItem"}
    assert create.unused == ["sqs:SendMessage"]  # logs:* is Lambda's own, never reported
    assert "logs:CreateLogStream" in create.granted


def test_the_report_totals_every_function_and_lists_what_went_unused() -> None:
    template = load_template()
    uses = role_uses(template, calls(CREATE, "sqs:SendMessage"))

    text = report(uses)

    assert text.startswith(f"{len(template.functions)} functions (1 of them call AWS)")
    assert f"| {CREATE} | 8 | 1 | dynamodb:GetItem, dynamodb:PutItem, dynamodb:Query, dynamodb:UpdateItem |" in text
    assert "| GetHealthFunction | 3 | 0 | — |" in text


def test_the_table_goes_between_its_markers_and_a_document_without_them_is_refused() -> None:
    document = f"intro\n{REPORT_START}\nold\n{REPORT_END}\nrest\n"

    assert with_report(document, "new") == f"intro\n{REPORT_START}\n\nnew\n{REPORT_END}\nrest\n"
    with pytest.raises(ValueError, match="marker"):
        with_report("no markers", "new")


def test_a_folder_without_decisions_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path)]) == 2
    assert "no decisions recorded" in capsys.readouterr().err
