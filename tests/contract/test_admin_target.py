"""What the client's ``infergate admin`` assumes of the stack it invokes, held against the stack itself:
the client cannot import the service, so each fact it repeats is checked here."""

from typing import Any

from infergate import admin

from shared.operations.commands import DEAD_LETTER_KINDS
from tools import devstack, provision
from tools.template import load_template


def test_a_deployed_stack_names_the_admin_function_in_the_output_the_client_reads() -> None:
    outputs: dict[str, Any] = load_template().raw["Outputs"]

    assert outputs[admin.ADMIN_FUNCTION_OUTPUT]["Value"] == {"Ref": admin.ADMIN_FUNCTION}


def test_the_client_signs_local_invokes_for_the_region_the_local_stack_runs_in() -> None:
    assert admin.LOCAL_REGION == provision.REGION == devstack.REGION  # (its state file it names: devstack reads it)


def test_the_client_knows_the_dead_letter_queues_the_function_operates() -> None:
    assert admin.DEAD_LETTER_QUEUES == DEAD_LETTER_KINDS


def test_the_client_waits_longer_for_an_answer_than_the_function_may_run() -> None:
    function = load_template().raw["Resources"][admin.ADMIN_FUNCTION]["Properties"]

    assert function["Timeout"] < admin.INVOKE_READ_TIMEOUT
