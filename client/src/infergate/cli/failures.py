"""Errors, reported on stderr: one clear line, the problem's detail and the request id."""

from http import HTTPStatus
from typing import Any

from infergate.cli import exit_codes
from infergate.cli.output import Output, dumps
from infergate.errors import APIError, InvalidInput, PredictionTimeout, RateLimited


def _title(error: APIError) -> str:
    if error.title:
        return error.title
    try:
        return HTTPStatus(error.status).phrase
    except ValueError:
        return "HTTP error"


def report(error: BaseException, out: Output) -> int:
    """Write the error to stderr; the exit status for it."""
    code = exit_codes.for_error(error)
    problem: dict[str, Any]
    if isinstance(error, APIError):
        out.note(f"infergate: error: {_title(error)} ({error.status})")
        if error.detail:
            out.note(f"  {error.detail}")
        if isinstance(error, InvalidInput):
            for field in error.errors:
                out.note(f"  {field.pointer or '/'}: {field.detail}")
        if isinstance(error, RateLimited) and error.retry_after is not None:
            out.note(f"  retry after {error.retry_after:g} s")
        if error.request_id:
            out.note(f"  request id: {error.request_id}")
        problem = error.problem.model_dump(mode="json", exclude_none=True)
    else:
        message = str(error) or type(error).__name__
        out.note(f"infergate: error: {message}")
        if isinstance(error, PredictionTimeout):
            out.note(f"  it may still finish: infergate predictions get {error.prediction_id}")
        problem = {"title": type(error).__name__, "detail": message}
    if out.json_mode:
        out.stderr.write(dumps(problem) + "\n")
        out.stderr.flush()
    return code
