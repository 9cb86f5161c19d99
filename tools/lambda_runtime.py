"""Run a function's handler in this process the way Lambda would: same module, event and context."""

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from tools.aws_identity import as_function
from tools.template import FunctionSpec

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class LocalContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    function_name: str
    timeout_seconds: int
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def load_handler(spec: FunctionSpec) -> Handler:
    """The function's handler, run with its own role's AWS credentials when roles are enforced."""
    handler: Handler = getattr(import_module(spec.module), spec.handler_name)

    def as_its_role(event: dict[str, Any], context: Any) -> Any:
        with as_function(spec.logical_id):
            return handler(event, context)

    return as_its_role


def invoke_function(logical_id: str, event: dict[str, Any]) -> Any:
    """Invoke a template function by logical id, e.g. ``invoke_function("GetHealthFunction", event)``."""
    from tools.template import load_template

    return invoke(load_template().function(logical_id), event)


def invoke(spec: FunctionSpec, event: dict[str, Any]) -> Any:
    return load_handler(spec)(event, context_for(spec))


def context_for(spec: FunctionSpec) -> LocalContext:
    return LocalContext(spec.logical_id, spec.timeout, spec.memory_size)
