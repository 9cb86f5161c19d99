"""Structured logs and metrics (Powertools), and the correlation id that ties them together.

The correlation id is the API request id; it travels to workers as an SQS message attribute.

The keys of one invocation (function name, cold start, request id, correlation id, tenant) are kept
with the thread that runs it (Powertools' thread-safe keys, a context variable), never in the
logger's process-wide keys: Lambda runs one invocation per process at a time, but the local stack
runs every function in one process, several at once, and a line must name the invocation that
wrote it. Handlers get them from :func:`logged_invocation` (in place of Powertools'
``inject_lambda_context``), the local HTTP server from :func:`invocation`.
"""

import functools
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.lambda_context import build_lambda_context_model

from shared.kernel.container import on_forget

SERVICE_NAME = "infergate"
METRICS_NAMESPACE = "Infergate"
CORRELATION_ID_ATTRIBUTE = "correlation_id"

logger = Logger(service=SERVICE_NAME)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE_NAME)


class InvocationContext(Protocol):
    """What the log keys are taken from: Lambda's context object (or the local stack's stand-in)."""

    @property
    def function_name(self) -> str: ...
    @property
    def memory_limit_in_mb(self) -> int: ...
    @property
    def invoked_function_arn(self) -> str: ...
    @property
    def aws_request_id(self) -> str: ...


Event = TypeVar("Event")
Context = TypeVar("Context", bound=InvocationContext)
Result = TypeVar("Result")

_warm: set[str] = set()  # functions invoked in this process (in Lambda: this one function, once invoked)
_warm_lock = threading.Lock()


def set_correlation_id(value: str | None) -> None:
    append_log_keys(correlation_id=value)


def correlation_id() -> str | None:
    value = logger.thread_safe_get_current_keys().get("correlation_id")
    return str(value) if value is not None else None


def append_log_keys(**keys: object) -> None:
    """Keys on every later line of this invocation (and of no other invocation running meanwhile)."""
    logger.thread_safe_append_keys(**keys)


@contextmanager
def invocation(context: InvocationContext) -> Iterator[None]:
    """The lines written inside carry the invocation's keys: those of Lambda's ``context`` and its cold start.

    What was set before is back afterwards, so nothing of one invocation is left on the thread for the next.
    """
    before = logger.thread_safe_get_current_keys()
    logger.thread_safe_clear_keys()
    keys = build_lambda_context_model(context).__dict__
    append_log_keys(cold_start=_is_cold_start(keys["function_name"]), **keys)
    try:
        yield
    finally:
        logger.thread_safe_clear_keys()
        append_log_keys(**before)


def logged_invocation(handler: Callable[[Event, Context], Result]) -> Callable[[Event, Context], Result]:
    """A Lambda handler whose log lines carry its invocation's keys (see :func:`invocation`)."""

    @functools.wraps(handler)
    def logged(event: Event, context: Context) -> Result:
        with invocation(context):
            return handler(event, context)

    return logged


def _is_cold_start(function_name: str) -> bool:
    """The function's first invocation in this process, as Powertools counts it (provisioned concurrency
    initialises ahead of any request, so its first invocation is not one)."""
    if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "provisioned-concurrency":
        return False
    with _warm_lock:
        cold = function_name not in _warm
        _warm.add(function_name)
    return cold


@on_forget
def _forget_invocations() -> None:
    """After a reset (a SnapStart restore, a test's fresh stack) the next invocation of each function is a
    cold start again."""
    with _warm_lock:
        _warm.clear()
