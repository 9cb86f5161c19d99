"""The local stack enforces each function's own role: a statement taken out of the template is an AccessDenied."""

from pathlib import Path

import pytest

from tests.e2e.conftest import ADMIN_KEY, LocalStack
from tests.support.builtin_model import built_models_dir
from tools import stack_process
from tools.iam_audit import Decision
from tools.provision import ACCOUNT_ID, REGION
from tools.template import TEMPLATE_PATH

SEND_STATEMENT = """\
            - Effect: Allow
              Action: sqs:SendMessage
              Resource: [!GetAtt PredictionsQueue.Arn, !GetAtt WebhooksQueue.Arn]
"""
PREDICTION = {"model": "echo", "input": {"text": "hello"}}


def without_send_statement(template: str) -> str:
    """The template with CreatePredictionFunction's sqs:SendMessage statement removed, and nothing else."""
    start = template.index("\n  CreatePredictionFunction:\n")
    end = template.index("\n  ListPredictionsFunction:\n")
    section = template[start:end]
    assert section.count(SEND_STATEMENT) == 1
    return template[:start] + section.replace(SEND_STATEMENT, "") + template[end:]


def test_with_its_whole_role_the_create_path_queues_the_prediction(local_stack: LocalStack) -> None:
    """The control: the same request against the template as written succeeds, with nothing refused."""
    with local_stack.client(local_stack.admin_key) as client:
        created = client.post("/v1/predictions", json=PREDICTION)

    assert created.status_code == 201, created.text
    assert local_stack.refusals() == []


def test_a_statement_removed_from_a_functions_role_fails_its_path_with_access_denied(tmp_path: Path) -> None:
    # Given a local stack run from a copy of the template whose CreatePredictionFunction may no longer send
    copy = tmp_path / "template.yaml"
    copy.write_text(without_send_statement(TEMPLATE_PATH.read_text(encoding="utf-8")), encoding="utf-8")
    settings = {"INFERGATE_TEMPLATE": str(copy), "RATE_LIMIT_BURST": "100"}
    with stack_process.running_stack(tmp_path / "stack", settings, ADMIN_KEY, built_models_dir()) as stack:
        # When a client creates a prediction
        with stack.client(stack.admin_key) as client:
            created = client.post("/v1/predictions", json=PREDICTION)

        # Then the create fails, and the refusal names the function, the action and the queue
        assert created.status_code >= 500, created.text
        queue = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:infergate-local-PredictionsQueue"
        assert Decision("CreatePredictionFunction", "sqs:SendMessage", queue, allowed=False) in stack.refusals()
        assert {refusal.principal for refusal in stack.refusals()} == {"CreatePredictionFunction"}


def test_the_copy_differs_from_the_template_by_that_statement_only() -> None:
    original = TEMPLATE_PATH.read_text(encoding="utf-8")
    changed = without_send_statement(original)

    assert len(original) - len(changed) == len(SEND_STATEMENT)
    with pytest.raises(ValueError, match="substring not found"):
        without_send_statement(original.replace("\n  ListPredictionsFunction:\n", "\n"))
