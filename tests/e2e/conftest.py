"""The local stack, started exactly as `make dev` starts it, as a subprocess (``tools.stack_process``); used
over real HTTP."""

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from infergate.admin import Admin, AdminTarget

from tests.support.builtin_model import built_models_dir
from tools import stack_process
from tools.iam_audit import refusal_report
from tools.stack_process import LocalStack as LocalStack  # re-exported: the e2e tests' type of the stack
from tools.stack_process import free_port

ADMIN_KEY = "igk_e2eadminkey000000000000000000000000"


_STACKS: list[LocalStack] = []  # every stack started in this session, whose refusals fail the test that caused them


@contextmanager
def running_stack(folder: Path, settings: dict[str, str]) -> Iterator[LocalStack]:
    """A local stack with the e2e admin key and the built-in models the tests build."""
    with stack_process.running_stack(folder, settings, ADMIN_KEY, built_models_dir()) as stack:
        _STACKS.append(stack)
        yield stack


@pytest.fixture(autouse=True)
def no_access_denied() -> Iterator[None]:
    """Each function runs as its own role, enforced: a call AWS would refuse fails the test that made it,
    naming the function, the action and the resource."""
    before = {stack.audit_dir: Counter(stack.refusals()) for stack in _STACKS}
    yield
    refused = [
        refusal
        for stack in _STACKS
        for refusal in (Counter(stack.refusals()) - before.get(stack.audit_dir, Counter())).elements()
    ]
    if refused:
        pytest.fail(refusal_report(refused), pytrace=False)


_free_port = free_port


_MINTED: dict[tuple[str, tuple[str, ...]], str] = {}


def mint_key(local_stack: LocalStack, tenant: str, *scopes: str) -> str:
    """A key for another tenant, minted the documented way: the operator command, invoking the running
    stack's admin function with the operator's credentials."""
    if (tenant, scopes) in _MINTED:
        return _MINTED[(tenant, scopes)]
    key: str = Admin(AdminTarget.local(local_stack.state_file)).mint_key(tenant, scopes=scopes)["key"]
    _MINTED[(tenant, scopes)] = key
    return key


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    # Default settings: webhook destinations are checked as in a deployment (no http, no loopback).
    # The suite sends requests back to back with one key: per-key and per-tenant limits are tested on
    # their own.
    settings = {
        "RATE_LIMIT_PER_SECOND": "1000",
        "RATE_LIMIT_BURST": "1000",
        "TENANT_RATE_LIMIT_PER_SECOND": "1000",
        "TENANT_RATE_LIMIT_BURST": "1000",
    }
    with running_stack(tmp_path_factory.mktemp("devstack"), settings) as stack:
        yield stack
