"""Switch the local AWS to refusing what AWS would refuse: each function as its own role, the rest as an operator.

Provisioning runs first, unchecked (CloudFormation creates a stack's resources with the deployer's
rights). Then an operator user is created, every client of the process signs as the function running
(``tools.aws_identity``) or else as the operator, and the emulator's authentication is switched on with
``tools.moto_iam``'s judgement. The operator's credentials go to the environment, for the tools and
subprocesses that act as a person with their own AWS credentials would.
"""

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
from moto import settings
from moto.core.authorization import ActionAuthenticatorMixin

from tools import moto_iam
from tools.aws_identity import AccessKey, acting_as, route_credentials, routed_client, stop_routing
from tools.local_roles import LocalRoles, create_operator
from tools.provision import Stack
from tools.template import Template


def enforce_roles(template: Template, stack: Stack, switch_on: Callable[[], None]) -> LocalRoles:
    """Create the operator, route this process's credentials, then ``switch_on`` the emulator's checks."""
    iam, sts = routed_client("iam"), routed_client("sts")
    with acting_as(AccessKey(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"])):
        operator = create_operator(iam, f"{stack.prefix}-operator")  # before the checks, as the provisioner
    act_as_operator(operator)
    roles = LocalRoles(template, stack, operator, iam, sts)
    route_credentials(operator, roles.credentials)
    switch_on()
    return roles


def act_as_operator(operator: AccessKey) -> None:
    """The environment's AWS credentials become the operator's (no session token: an IAM user's key)."""
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ.update(operator.environment())


def switch_on_server(endpoint_url: str) -> Callable[[], None]:
    """For the emulator in server mode: authenticate every request from now on."""

    def switch_on() -> None:
        httpx.post(f"{endpoint_url}/moto-api/reset-auth", content=b"0", timeout=10).raise_for_status()

    return switch_on


def enforce_in_process(template: Template, stack: Stack) -> LocalRoles:
    """With moto's in-process mock (the tests, ``tools.invoke``, the benchmarks): roles enforced until
    :func:`stop_enforcing_in_process`. The environment's credentials are the operator's afterwards."""
    moto_iam.install()
    return enforce_roles(template, stack, switch_on=_authenticate_in_process)


def stop_enforcing_in_process() -> None:
    settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")  # moto's default: authentication off
    ActionAuthenticatorMixin.request_count = 0
    stop_routing()


@contextmanager
def enforcing_in_process(template: Template, stack: Stack) -> Iterator[LocalRoles]:
    """:func:`enforce_in_process` for the block; the caller restores its own environment."""
    roles = enforce_in_process(template, stack)
    try:
        yield roles
    finally:
        stop_enforcing_in_process()


def _authenticate_in_process() -> None:
    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    ActionAuthenticatorMixin.request_count = 0
