"""The local IAM decision (tools.iam_policy): AWS's evaluation logic for identity-based policies."""

from typing import Any

import pytest

from tools.aws_permissions import LEADING_KEYS
from tools.iam_policy import Effect, Request, UnsupportedConditionError, decide, string_like

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/t"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:q"


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: Any, resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


RATE_ONLY = {"ForAllValues:StringLike": {LEADING_KEYS: ["RATE#*"]}}


def test_an_allow_on_the_action_and_resource_allows_and_nothing_else_does() -> None:
    policies = [policy(allow("dynamodb:GetItem", TABLE))]

    assert decide(policies, Request("dynamodb:GetItem", TABLE)) is Effect.ALLOW
    assert decide(policies, Request("dynamodb:PutItem", TABLE)) is Effect.IMPLICIT_DENY
    assert decide(policies, Request("dynamodb:GetItem", f"{TABLE}-other")) is Effect.IMPLICIT_DENY
    assert decide(policies, Request("dynamodb:GetItem", f"{TABLE}/index/i")) is Effect.IMPLICIT_DENY
    assert decide([], Request("dynamodb:GetItem", TABLE)) is Effect.IMPLICIT_DENY


def test_actions_match_without_case_and_with_wildcards_and_resources_with_wildcards_only() -> None:
    policies = [policy(allow(["s3:Get*", "SQS:SENDMESSAGE"], ["arn:aws:s3:::b/uploads/*", QUEUE]))]

    assert decide(policies, Request("s3:GetObject", "arn:aws:s3:::b/uploads/a/b")) is Effect.ALLOW
    assert decide(policies, Request("sqs:SendMessage", QUEUE)) is Effect.ALLOW
    assert decide(policies, Request("s3:PutObject", "arn:aws:s3:::b/uploads/a")) is Effect.IMPLICIT_DENY
    assert decide(policies, Request("s3:GetObject", "arn:aws:s3:::b/Uploads/a")) is Effect.IMPLICIT_DENY
    assert decide(policies, Request("s3:GetObject", "arn:aws:s3:::b/artifacts/a")) is Effect.IMPLICIT_DENY


def test_an_explicit_deny_wins_over_any_allow() -> None:
    policies = [
        policy(allow("*", "*")),
        policy({"Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": TABLE}),
    ]

    assert decide(policies, Request("dynamodb:DeleteItem", TABLE)) is Effect.DENY
    assert decide(policies, Request("dynamodb:PutItem", TABLE)) is Effect.ALLOW


def test_not_resource_covers_every_other_resource() -> None:
    policies = [policy({"Effect": "Allow", "Action": "sqs:SendMessage", "NotResource": QUEUE})]

    assert decide(policies, Request("sqs:SendMessage", f"{QUEUE}2")) is Effect.ALLOW
    assert decide(policies, Request("sqs:SendMessage", QUEUE)) is Effect.IMPLICIT_DENY


def test_leading_keys_confine_an_update_to_the_items_the_condition_names() -> None:
    policies = [policy(allow("dynamodb:UpdateItem", TABLE, Condition=RATE_ONLY))]

    assert decide(policies, Request("dynamodb:UpdateItem", TABLE, {LEADING_KEYS: ("RATE#key#k1",)})) is Effect.ALLOW
    for key in ("KEY#k1", "RATE", "rate#k1", ""):
        assert decide(policies, Request("dynamodb:UpdateItem", TABLE, {LEADING_KEYS: (key,)})) is Effect.IMPLICIT_DENY
    both = {LEADING_KEYS: ("RATE#a", "KEY#b")}
    assert decide(policies, Request("dynamodb:UpdateItem", TABLE, both)) is Effect.IMPLICIT_DENY


def test_a_statement_whose_condition_fails_does_not_deny_what_another_statement_allows() -> None:
    """moto's own evaluator turns an unmet condition into an explicit deny; IAM does not."""
    policies = [
        policy(allow("dynamodb:UpdateItem", TABLE, Condition=RATE_ONLY)),
        policy(allow("dynamodb:UpdateItem", TABLE)),
    ]

    assert decide(policies, Request("dynamodb:UpdateItem", TABLE, {LEADING_KEYS: ("KEY#k1",)})) is Effect.ALLOW


def test_a_key_the_request_lacks_satisfies_for_all_values_but_no_single_valued_operator() -> None:
    for_all = [policy(allow("dynamodb:Query", TABLE, Condition=RATE_ONLY))]
    single = [policy(allow("dynamodb:Query", TABLE, Condition={"StringEquals": {"aws:SourceVpc": "vpc-1"}}))]
    negated = [policy(allow("dynamodb:Query", TABLE, Condition={"StringNotLike": {"aws:SourceVpc": "vpc-*"}}))]

    assert decide(for_all, Request("dynamodb:Query", TABLE)) is Effect.ALLOW
    assert decide(single, Request("dynamodb:Query", TABLE)) is Effect.IMPLICIT_DENY
    assert decide(single, Request("dynamodb:Query", TABLE, {"AWS:SourceVpc": ("vpc-1",)})) is Effect.ALLOW
    assert decide(negated, Request("dynamodb:Query", TABLE, {"aws:SourceVpc": ("vpc-1",)})) is Effect.IMPLICIT_DENY
    assert decide(negated, Request("dynamodb:Query", TABLE, {"aws:SourceVpc": ("other",)})) is Effect.ALLOW
    assert decide(negated, Request("dynamodb:Query", TABLE)) is Effect.ALLOW  # a negated operator on a missing key


def test_a_condition_operator_not_implemented_fails_loudly_instead_of_being_guessed() -> None:
    policies = [policy(allow("s3:GetObject", "*", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))]

    with pytest.raises(UnsupportedConditionError, match="IpAddress"):
        decide(policies, Request("s3:GetObject", "arn:aws:s3:::b/k"))


def test_a_condition_on_a_key_the_requests_never_carry_fails_loudly() -> None:
    """A global key such as aws:PrincipalArn is in every AWS request, but not in the local ones."""
    policies = [policy(allow("s3:GetObject", "*", Condition={"StringEquals": {"aws:PrincipalArn": "arn:x"}}))]
    leading = [policy(allow("dynamodb:UpdateItem", TABLE, Condition=RATE_ONLY))]
    request = Request("dynamodb:UpdateItem", TABLE, {LEADING_KEYS: ("RATE#k",)})

    with pytest.raises(UnsupportedConditionError, match="aws:PrincipalArn"):
        decide(policies, Request("s3:GetObject", "arn:aws:s3:::b/k"), frozenset({"dynamodb:leadingkeys"}))
    assert decide(leading, request, frozenset({"dynamodb:leadingkeys"})) is Effect.ALLOW


@pytest.mark.parametrize(
    ("pattern", "value", "matches"),
    [
        ("RATE#*", "RATE#", True),
        ("RATE#*", "RATE", False),
        ("a?c", "abc", True),
        ("a?c", "ac", False),
        ("a.c", "abc", False),  # regex characters are literal
        ("*", "", True),
    ],
)
def test_string_like_is_iams_wildcard_match(pattern: str, value: str, matches: bool) -> None:
    assert string_like(pattern, value) is matches
