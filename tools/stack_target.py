"""The running local stack, as ``tools.import_model --local`` finds it: what ``make dev`` wrote about itself
in its state file (``base_url``, ``lambda_endpoint_url``, the operator's credentials, ``resources`` ...)."""

import json
import logging
import sys
from typing import Any

from shared.kernel.observability import logger
from tools.devstack import STATE_FILE


class UsageError(Exception):
    """The command line does not say where to act, or names what is not there: exit 2 with the message."""


def local_state() -> dict[str, Any]:
    """What the running local stack wrote about itself."""
    if not STATE_FILE.exists():
        raise UsageError("no local stack is running (start it with `make dev`)")
    state: dict[str, Any] = json.loads(STATE_FILE.read_text(encoding="utf-8"))
    return state


def logs_to_stderr() -> None:
    """Keep stdout for the command's result: the service's structured logs go to stderr."""
    handler = logger.registered_handler
    if isinstance(handler, logging.StreamHandler):
        handler.setStream(sys.stderr)
