"""The worst case of every network call fits the function that makes it (``shared/kernel/call_policies.py``
against ``template.yaml``).

Which calls a function can make is read from its role in the translated template: the services its
statements (and the template's managed policies) name. For each, one call's worst case (every attempt
waiting out its timeouts, plus botocore's longest backoff; ``tools.call_worst_case.worst_case_seconds``)
plus ``ANSWER_SECONDS`` must fit the function's ``Timeout``, and stay under API Gateway's 30 s for an API
function, so the function ends a stuck call and answers (503, or a failed record) instead of being killed.
"""

import ast
import dataclasses
from collections.abc import Iterable

from shared.kernel.call_policies import AWS_POLICIES, INSPECTOR_INVOKE, SQS, WEBHOOK, AwsCallPolicy
from tools.call_worst_case import worst_case_seconds
from tools.template import ROOT, FunctionSpec, Template, load_template

API_GATEWAY_SECONDS = 30  # an HTTP API's integration timeout (its default, and not raisable)
ANSWER_SECONDS = 1  # what a function needs after a failed call: log, answer its 503 or fail its record
POLICY_BY_SERVICE = {policy.service: policy for policy in AWS_POLICIES}


def services_of(spec: FunctionSpec, template: Template) -> set[str]:
    """The AWS services the function's role lets it call (the IAM action prefixes)."""
    statements = list(spec.policy_statements)
    for arn in spec.managed_policy_arns:
        if isinstance(arn, dict) and "Ref" in arn:  # the template's own managed policies
            document = template.resources[arn["Ref"]]["Properties"]["PolicyDocument"]
            statements += document["Statement"]
    actions: list[str] = []
    for statement in statements:
        if statement.get("Effect", "Allow") == "Allow":
            action = statement["Action"]
            actions += action if isinstance(action, list) else [action]
    return {action.split(":", 1)[0] for action in actions}


def budget_problems(specs: Iterable[FunctionSpec], template: Template, policies: dict[str, AwsCallPolicy]) -> list[str]:
    problems = []
    for spec in specs:
        for service in sorted(services_of(spec, template)):
            policy = policies.get(service)
            if policy is None:
                problems.append(f"{spec.logical_id}: may call {service}, which has no call policy")
                continue
            worst = worst_case_seconds(policy)
            if worst + ANSWER_SECONDS > spec.timeout:
                problems.append(f"{spec.logical_id}: one {service} call may take {worst:g} s of its {spec.timeout} s")
            if spec.is_api and worst + ANSWER_SECONDS > API_GATEWAY_SECONDS:
                problems.append(f"{spec.logical_id}: one {service} call may take {worst:g} s of API Gateway's 30 s")
    return problems


def test_every_function_outlasts_one_call_of_each_service_its_role_allows() -> None:
    template = load_template()

    assert budget_problems(template.functions, template, POLICY_BY_SERVICE) == []


def test_a_function_too_short_for_its_calls_is_found() -> None:
    template = load_template()
    spec = template.function("GetPredictionFunction")  # DynamoDB only (ApiCallerPolicy)
    worst = worst_case_seconds(POLICY_BY_SERVICE["dynamodb"])
    short = dataclasses.replace(spec, timeout=int(worst))

    assert budget_problems([spec], template, POLICY_BY_SERVICE) == []
    assert budget_problems([short], template, POLICY_BY_SERVICE) == [
        f"GetPredictionFunction: one dynamodb call may take {worst:g} s of its {int(worst)} s"
    ]


def test_a_service_without_a_policy_is_found() -> None:
    template = load_template()
    spec = template.function("CreatePredictionFunction")  # DynamoDB and SQS
    without_sqs = {service: policy for service, policy in POLICY_BY_SERVICE.items() if service != "sqs"}

    assert budget_problems([spec], template, without_sqs) == [
        "CreatePredictionFunction: may call sqs, which has no call policy"
    ]


def test_an_api_call_slower_than_api_gateway_is_found() -> None:
    template = load_template()
    spec = template.function("CreateModelVersionFunction")
    slow = dataclasses.replace(INSPECTOR_INVOKE, read_seconds=API_GATEWAY_SECONDS)
    long_function = dataclasses.replace(spec, timeout=60)

    problems = budget_problems([long_function], template, {**POLICY_BY_SERVICE, "lambda": slow})

    assert problems == [
        f"CreateModelVersionFunction: one lambda call may take {1 + API_GATEWAY_SECONDS:g} s of API Gateway's 30 s"
    ]


def test_the_inspector_invoke_waits_for_the_inspector_once() -> None:
    template = load_template()
    inspector = template.function("InspectModelArtifactFunction").timeout

    # Its read timeout outlasts the inspector, so the inspector's own answer (or its timeout) arrives
    assert INSPECTOR_INVOKE.read_seconds > inspector
    # and it is never retried: a second inspection would start after the first timed out, past API Gateway
    assert INSPECTOR_INVOKE.attempts == 1
    assert "lambda" in services_of(template.function("CreateModelVersionFunction"), template)


def test_a_webhook_attempt_fits_the_delivery_function() -> None:
    timeout = load_template().function("DeliverWebhooksFunction").timeout

    assert WEBHOOK.deadline_seconds + ANSWER_SECONDS <= timeout
    assert WEBHOOK.connect_seconds < WEBHOOK.deadline_seconds  # a dead first address leaves time for another


def _long_polls() -> list[int]:
    """Every ``WaitTimeSeconds`` the deployed code receives with: literals, and ``wait_seconds`` defaults."""
    waits = []
    for path in (ROOT / "shared").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            value = node.value if isinstance(node, ast.keyword) and node.arg == "WaitTimeSeconds" else None
            if isinstance(value, ast.Constant) and isinstance(value.value, int):
                waits.append(value.value)
            if isinstance(node, ast.arguments):
                positional = [*node.posonlyargs, *node.args]
                defaults: list[ast.expr | None] = [*node.defaults, *node.kw_defaults]
                with_defaults = [*positional[len(positional) - len(node.defaults) :], *node.kwonlyargs]
                for argument, default in zip(with_defaults, defaults, strict=True):
                    if argument.arg == "wait_seconds" and isinstance(default, ast.Constant):
                        assert isinstance(default.value, int), default.value
                        waits.append(default.value)
    return waits


def test_sqs_waits_longer_than_any_long_poll() -> None:
    waits = _long_polls()

    assert waits, "no long poll found: the check would hold nothing"
    assert SQS.read_seconds > max(waits)
