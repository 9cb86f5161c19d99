"""The command line's exit statuses: the one table mapping outcomes and error classes to them."""

import textwrap
from enum import IntEnum

from infergate.admin import AdminCommandError, AdminTargetError
from infergate.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    BadRequest,
    ConfigurationError,
    Conflict,
    Forbidden,
    InvalidInput,
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServerError,
    ServiceUnavailable,
    Unauthorized,
    UnexpectedResponse,
    UnsupportedMediaType,
)


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1
    USAGE = 2
    AUTH = 3
    NOT_FOUND = 4
    INVALID_INPUT = 5
    CONFLICT = 6
    RATE_LIMITED = 7
    UNAVAILABLE = 8
    TIMEOUT = 124
    INTERRUPTED = 130
    BROKEN_PIPE = 141


MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "success",
    ExitCode.FAILED: "the prediction or batch failed (or was canceled), or another error (its type on stderr)",
    ExitCode.USAGE: (
        "usage error: bad arguments, unreadable input file, output file that cannot be written, "
        "no base URL or API key, no stack"
    ),
    ExitCode.AUTH: "authentication or permission refused (401, 403)",
    ExitCode.NOT_FOUND: "not found: unknown model, prediction, batch or key (404)",
    ExitCode.INVALID_INPUT: "the request or input was refused (400, 413, 415, 422)",
    ExitCode.CONFLICT: "conflict, e.g. an idempotency key reused with another body (409)",
    ExitCode.RATE_LIMITED: "rate limited (429)",
    ExitCode.UNAVAILABLE: "service unavailable, server error (5xx), an answer it never gives, or no connection",
    ExitCode.TIMEOUT: "timed out (the client's timeout, or the model's time limit)",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C)",
    ExitCode.BROKEN_PIPE: "stdout was closed early (e.g. piped into head): stopped quietly, as on SIGPIPE",
}

# Most specific first: the first class an error is an instance of decides its exit status.
_BY_ERROR_CLASS: tuple[tuple[type[BaseException], ExitCode], ...] = (
    (ConfigurationError, ExitCode.USAGE),
    (InvalidRequest, ExitCode.USAGE),  # refused by the client before anything was sent (an id, a NaN ...)
    (UnexpectedResponse, ExitCode.UNAVAILABLE),  # the service answered what it never answers
    (AdminTargetError, ExitCode.USAGE),
    (AdminCommandError, ExitCode.INVALID_INPUT),
    (Unauthorized, ExitCode.AUTH),
    (Forbidden, ExitCode.AUTH),
    (NotFound, ExitCode.NOT_FOUND),
    (BadRequest, ExitCode.INVALID_INPUT),
    (PayloadTooLarge, ExitCode.INVALID_INPUT),
    (UnsupportedMediaType, ExitCode.INVALID_INPUT),
    (InvalidInput, ExitCode.INVALID_INPUT),
    (Conflict, ExitCode.CONFLICT),
    (RateLimited, ExitCode.RATE_LIMITED),
    (ServiceUnavailable, ExitCode.UNAVAILABLE),
    (ServerError, ExitCode.UNAVAILABLE),
    (APITimeoutError, ExitCode.TIMEOUT),  # before its base class, the connection error
    (APIConnectionError, ExitCode.UNAVAILABLE),
    (TimeoutError, ExitCode.TIMEOUT),
    (KeyboardInterrupt, ExitCode.INTERRUPTED),
)

# A model that runs past its time limit is a 422 of this problem type: a timeout, not a bad input.
_TIMEOUT_PROBLEM_TYPE = "urn:infergate:problem:timeout"


def for_error(error: BaseException) -> ExitCode:
    """The exit status for an error the command could not recover from."""
    if isinstance(error, APIError) and error.problem.type == _TIMEOUT_PROBLEM_TYPE:
        return ExitCode.TIMEOUT
    for cls, code in _BY_ERROR_CLASS:
        if isinstance(error, cls):
            return code
    if isinstance(error, APIError) and error.status >= 500:
        return ExitCode.UNAVAILABLE
    return ExitCode.FAILED


def table() -> str:
    """The exit statuses, one a line, for ``--help``."""
    return "\n".join(
        textwrap.fill(MEANINGS[code], 100, initial_indent=f"  {code.value:>3}  ", subsequent_indent=" " * 7)
        for code in ExitCode
    )
