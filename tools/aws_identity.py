"""Whose AWS credentials sign a call in the local stack: the invoked function's role, as in Lambda.

In Lambda each function's container holds its own role's credentials. The local stack runs every
function in one process, with the AWS clients each module caches for the life of the container, so
the credentials are chosen per call instead: the boto3 default session is given credentials that
resolve, each time a request is signed, to those of the function running on this thread (or task),
and to the operator's outside any invocation. Nothing in ``shared`` or ``functions`` knows.
"""

import contextvars
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from typing import Any

import boto3
import botocore.session
from botocore.credentials import CredentialProvider, Credentials, ReadOnlyCredentials


@dataclass(frozen=True)
class AccessKey:
    """AWS credentials: an IAM user's access key (no token) or an assumed role's (with its session token)."""

    access_key: str
    secret_key: str
    token: str | None = None

    def environment(self) -> dict[str, str]:
        """The credentials as Lambda hands them to a function: in its environment."""
        variables = {"AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key}
        return variables | ({"AWS_SESSION_TOKEN": self.token} if self.token else {})


CredentialsOf = Callable[[str], AccessKey]  # a function's logical id -> its role's credentials

_acting: ContextVar[AccessKey | None] = ContextVar("infergate_acting_as", default=None)
_operator: AccessKey | None = None
_function_credentials: CredentialsOf | None = None


class _RoutedCredentials(Credentials):
    """Credentials whose frozen copy (what botocore signs each request with) is whoever is acting now."""

    def __init__(self) -> None:
        super().__init__("routed", "routed", None, method="infergate-local-roles")

    def get_frozen_credentials(self) -> ReadOnlyCredentials:
        acting = _acting.get() or _operator
        if acting is None:
            raise RuntimeError("AWS credentials are routed per function, but no operator is set")
        return ReadOnlyCredentials(acting.access_key, acting.secret_key, acting.token)


class _RoutedProvider(CredentialProvider):
    METHOD = "infergate-local-roles"

    def __init__(self, credentials: Credentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> Credentials:
        return self._credentials


@cache
def routed_session() -> boto3.Session:
    """One per process: its clients, and the service models it loaded, outlive a test's emulator."""
    session = botocore.session.get_session()
    session.get_component("credential_provider").insert_before("env", _RoutedProvider(_RoutedCredentials()))
    return boto3.Session(botocore_session=session)


@cache
def _routed_client(service: str, endpoint_url: str | None) -> Any:
    return routed_session().client(service, endpoint_url=endpoint_url)  # type: ignore[call-overload]


def routed_client(service: str) -> Any:
    """A client of the routed session for the emulator this process points at, made once (~50 ms each)."""
    return _routed_client(service, os.environ.get("AWS_ENDPOINT_URL"))


def route_credentials(operator: AccessKey, credentials_of: CredentialsOf) -> None:
    """From now on, clients of boto3's default session sign as the function acting (see :func:`as_function`),
    else as ``operator``."""
    global _operator, _function_credentials
    _operator, _function_credentials = operator, credentials_of
    boto3.DEFAULT_SESSION = routed_session()
    _run_pool_tasks_in_their_submitters_context()


@cache
def _run_pool_tasks_in_their_submitters_context() -> None:
    """In Lambda a role's credentials are the whole process's, so every thread a function starts uses them
    (s3transfer's download threads, a worker's pool). Here they are the invocation's context: a task
    submitted to a thread pool runs in a copy of its submitter's, so it signs as the same function."""
    submit = ThreadPoolExecutor.submit

    def submit_in_context(self: ThreadPoolExecutor, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        return submit(self, contextvars.copy_context().run, fn, *args, **kwargs)

    ThreadPoolExecutor.submit = submit_in_context  # type: ignore[method-assign,assignment]


def stop_routing() -> None:
    global _operator, _function_credentials
    _operator, _function_credentials = None, None
    boto3.DEFAULT_SESSION = None


@contextmanager
def acting_as(credentials: AccessKey | None) -> Iterator[None]:
    token = _acting.set(credentials)
    try:
        yield
    finally:
        _acting.reset(token)


@contextmanager
def as_function(logical_id: str) -> Iterator[None]:
    """Calls made inside sign with the function's own role (unchanged while roles are not enforced)."""
    if _function_credentials is None:
        yield
        return
    with acting_as(None):  # a role is created and assumed on first use: by the operator
        credentials = _function_credentials(logical_id)
    with acting_as(credentials):
        yield
