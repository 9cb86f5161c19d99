"""IAM's decision for one request against a principal's identity-based policies, as AWS documents it.

An explicit ``Deny`` wins; else any ``Allow`` whose action, resource and conditions all match allows;
else the request is implicitly denied. A statement whose condition does not hold does not apply (it
neither allows nor denies). The local stack judges every emulated AWS call of a function with this, so
it refuses what AWS would refuse (``tools.moto_iam``); moto's own evaluator treats an unmet condition
as a deny and reads resources of DynamoDB or Secrets Manager calls as ``*``.

Condition operators: the ``String*`` family, alone or with ``ForAllValues:``/``ForAnyValue:``. A policy
using another operator, or a condition key the caller says its requests never carry (``known_keys``),
fails loudly (:class:`UnsupportedConditionError`) rather than being judged wrongly.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Effect(Enum):
    ALLOW = "Allow"
    DENY = "Deny"
    IMPLICIT_DENY = "ImplicitDeny"


class UnsupportedConditionError(ValueError):
    """A condition operator this evaluator does not implement."""


@dataclass(frozen=True)
class Request:
    """One authorization question: ``action`` (``dynamodb:PutItem``) on ``resource`` (an ARN), with the
    request's condition keys (``dynamodb:LeadingKeys``: the partition keys it touches)."""

    action: str
    resource: str
    context: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def decide(policies: Iterable[Mapping[str, Any]], request: Request, known_keys: frozenset[str] | None = None) -> Effect:
    """``known_keys``: the condition keys (lower case) the caller's requests can carry; None: any."""
    allowed = False
    for policy in policies:
        for statement in _as_list(policy.get("Statement", [])):
            if known_keys is not None:
                _require_known(statement, known_keys)
            if not _applies(statement, request):
                continue
            if statement.get("Effect") == "Deny":
                return Effect.DENY
            allowed = True
    return Effect.ALLOW if allowed else Effect.IMPLICIT_DENY


def _require_known(statement: Mapping[str, Any], known_keys: frozenset[str]) -> None:
    for operator, keys in statement.get("Condition", {}).items():
        for key in keys:
            if key.lower() not in known_keys:
                raise UnsupportedConditionError(f"condition key {key} ({operator}) is not evaluated locally")


def string_like(pattern: str, value: str) -> bool:
    """IAM's wildcard match: ``*`` any run of characters, ``?`` one character, the rest literal."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


def _applies(statement: Mapping[str, Any], request: Request) -> bool:
    if "NotAction" in statement:
        if _any_like(statement["NotAction"], request.action, case_sensitive=False):
            return False
    elif not _any_like(statement.get("Action", []), request.action, case_sensitive=False):
        return False
    if "NotResource" in statement:
        if _any_like(statement["NotResource"], request.resource):
            return False
    elif not _any_like(statement.get("Resource", []), request.resource):
        return False
    return all(
        _holds(operator, key, expected, request.context)
        for operator, keys in statement.get("Condition", {}).items()
        for key, expected in keys.items()
    )


def _any_like(patterns: Any, value: str, *, case_sensitive: bool = True) -> bool:
    if not case_sensitive:  # action names are case-insensitive, ARNs are not
        return any(string_like(pattern.lower(), value.lower()) for pattern in _as_list(patterns))
    return any(string_like(pattern, value) for pattern in _as_list(patterns))


_MATCHERS = {
    "StringEquals": lambda pattern, value: pattern == value,
    "StringNotEquals": lambda pattern, value: pattern == value,
    "StringEqualsIgnoreCase": lambda pattern, value: pattern.lower() == value.lower(),
    "StringNotEqualsIgnoreCase": lambda pattern, value: pattern.lower() == value.lower(),
    "StringLike": string_like,
    "StringNotLike": string_like,
}


def _holds(operator: str, key: str, expected: Any, context: Mapping[str, tuple[str, ...]]) -> bool:
    qualifier, _, name = operator.rpartition(":")
    if name not in _MATCHERS or qualifier not in ("", "ForAllValues", "ForAnyValue"):
        raise UnsupportedConditionError(f"condition operator {operator} is not evaluated locally")
    negated = "Not" in name
    patterns = [str(pattern) for pattern in _as_list(expected)]
    values = _context_value(context, key)

    def matches(value: str) -> bool:
        found = any(_MATCHERS[name](pattern, value) for pattern in patterns)
        return not found if negated else found

    if qualifier == "ForAllValues":
        return all(matches(value) for value in values)  # true for a request without the key, as in AWS
    if qualifier == "ForAnyValue":
        return any(matches(value) for value in values)
    if not values:  # a key the request does not carry: only a negated operator holds, as in IAM
        return negated
    return all(matches(value) for value in values)


def _context_value(context: Mapping[str, tuple[str, ...]], key: str) -> tuple[str, ...]:
    for name, values in context.items():
        if name.lower() == key.lower():  # condition key names are case-insensitive
            return values
    return ()


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
