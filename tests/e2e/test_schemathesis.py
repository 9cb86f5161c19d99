"""Schemathesis: every operation of the committed OpenAPI document, fuzzed against the running local stack.

The document is the committed ``openapi.json`` (the contract clients see), not the one the stack
serves, so a drift between the two fails here as well as in the contract tests. Requests carry an
admin key of a tenant of their own; 20 examples per operation. Every response must be no 5xx, a
documented status code with a documented content type and headers, and a body that matches the
documented schema. Generation is derandomized so a CI failure reproduces locally with the same examples.
"""

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.conftest import LocalStack, mint_key
from tools.template import ROOT

pytestmark = pytest.mark.e2e

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


schema = schemathesis.openapi.from_path(ROOT / "openapi.json")


@pytest.fixture(scope="session")
def fuzzing_key(local_stack: LocalStack) -> str:
    return mint_key(local_stack, "schemathesis", "admin")


@schema.parametrize()
@settings(max_examples=20, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
def test_every_operation_keeps_its_contract(
    case: schemathesis.Case[Any], local_stack: LocalStack, fuzzing_key: str
) -> None:
    case.call_and_validate(
        base_url=local_stack.base_url, headers={"Authorization": f"Bearer {fuzzing_key}"}, checks=CHECKS
    )
