"""Errors, reported on stderr: one clear line, the problem's detail and the request id."""

from http import HTTPStatus
from typing import Any

from pydantic import ValidationError

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
    _problem_document(problem, out)
    return code


def unexpected(error: Exception, out: Output) -> int:
    """An error no command expects (an ``OSError``, a response not understood): its type and message."""
    title = type(error).__name__
    message = _one_line(error)
    out.note(f"infergate: error: {title}: {message}")
    _problem_document({"title": title, "detail": message}, out)
    return exit_codes.for_error(error)


def _one_line(error: Exception) -> str:
    if isinstance(error, ValidationError):
        # Its text is a block of lines with links; the fields at fault are what helps.
        fields = [f"{'.'.join(map(str, e['loc'])) or '/'}: {e['msg']}" for e in error.errors()]
        more = f" (and {len(fields) - 3} more)" if len(fields) > 3 else ""
        return f"{error.title}: " + "; ".join(fields[:3]) + more
    return " ".join(str(error).split()) or "(no message)"


def _problem_document(problem: dict[str, Any], out: Output) -> None:
    """With ``--json``, the problem as a JSON document on stderr, after the line for people."""
    if out.json_mode:
        out.stderr.write(dumps(problem) + "\n")
        out.stderr.flush()
