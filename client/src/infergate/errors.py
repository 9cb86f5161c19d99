"""The exceptions the client raises, and the one function that turns an error response into one.

Every error answer of the API is an RFC 9457 problem document; each status has its own class, and each
exception carries the document (``.problem``), ``.status``, ``.title``, ``.detail``, ``.type`` and the
``X-Request-Id`` of the call (``.request_id``). A body that is not a problem still gets the right class.
"""

import email.utils
import json
import time
from http import HTTPStatus
from typing import Any

import httpx

from infergate.models import Batch, Prediction, Problem, ProblemFieldError

_SHOWN_BODY = 500


class InfergateError(Exception):
    """The base of every error this package raises."""


class ConfigurationError(InfergateError, ValueError):
    """The client was not told where the API is, or which key to use."""


class APIConnectionError(InfergateError):
    """The API could not be reached, or the connection broke before an answer arrived."""


class APITimeoutError(APIConnectionError):
    """The API did not answer in time."""


class InvalidRequest(InfergateError, ValueError):
    """The client refused to send a call as given: e.g. an input that is not valid JSON (NaN, Infinity).

    Raised before anything is sent. It is a ``ValueError`` too, like the other mistakes in arguments.
    """


class UnexpectedResponse(InfergateError):
    """The API (or a storage URL) answered successfully, but with a body this client cannot read.

    ``.status`` and ``.request_id`` (``X-Request-Id``, when there was one) name the answer; the body is
    not quoted in the message.
    """

    def __init__(self, message: str, status: int | None = None, request_id: str | None = None) -> None:
        self.status = status
        self.request_id = request_id
        super().__init__(message)


class APIError(InfergateError):
    """The API answered with an error status."""

    def __init__(self, status: int, problem: Problem, request_id: str | None = None) -> None:
        self.status = status
        self.problem = problem
        self.request_id = request_id
        said = f"HTTP {status} {problem.title}".rstrip()
        super().__init__(f"{said}: {problem.detail}" if problem.detail else said)

    @property
    def title(self) -> str:
        return self.problem.title

    @property
    def detail(self) -> str:
        return self.problem.detail

    @property
    def type(self) -> str:
        return self.problem.type


class BadRequest(APIError):
    """400: the request could not be read (malformed JSON, a bad parameter)."""


class Unauthorized(APIError):
    """401: no API key, or one that is unknown or revoked."""


class Forbidden(APIError):
    """403: the key lacks the scope this call needs."""


class NotFound(APIError):
    """404: no such resource for this tenant."""


class Conflict(APIError):
    """409: e.g. an ``Idempotency-Key`` reused with another body."""


class PayloadTooLarge(APIError):
    """413: the body or the input is over its limit."""


class UnsupportedMediaType(APIError):
    """415: the body is not JSON."""


class InvalidInput(APIError):
    """422: the request is understood but refused; ``.errors`` names each field (JSON pointers)."""

    @property
    def errors(self) -> list[ProblemFieldError]:
        return list(self.problem.errors or [])


class RateLimited(APIError):
    """429: over the key's or the tenant's rate limit; ``.retry_after`` is in seconds when the API said."""

    def __init__(
        self, status: int, problem: Problem, request_id: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(status, problem, request_id)
        self.retry_after = retry_after


class ServiceUnavailable(APIError):
    """503: a transient failure; worth trying again later."""


class ServerError(APIError):
    """Any other 5xx."""


class PredictionFailed(InfergateError):
    """The prediction ended ``failed``; ``.prediction`` holds it and ``.error`` why."""

    def __init__(self, prediction: Prediction) -> None:
        self.prediction = prediction
        self.error = prediction.error
        why = f"{prediction.error.code}: {prediction.error.message}" if prediction.error else "no error given"
        super().__init__(f"prediction {prediction.id} failed ({why})")


class PredictionCanceled(InfergateError):
    """The prediction was canceled before it finished."""

    def __init__(self, prediction: Prediction) -> None:
        self.prediction = prediction
        super().__init__(f"prediction {prediction.id} was canceled")


class WaitTimeout(InfergateError, TimeoutError):
    """Waiting for a prediction or a batch to finish took longer than allowed; it may still finish."""


class PredictionTimeout(WaitTimeout):
    """The prediction was not finished in time; ``.prediction_id`` names it, ``.prediction`` is its last state."""

    def __init__(self, prediction: Prediction) -> None:
        self.prediction = prediction
        self.prediction_id = prediction.id
        super().__init__(f"prediction {prediction.id} is still {prediction.status}")


class BatchTimeout(WaitTimeout):
    """The batch was not final in time; ``.batch_id`` names it, ``.batch`` is its last state."""

    def __init__(self, batch: Batch) -> None:
        self.batch = batch
        self.batch_id = batch.id
        super().__init__(f"batch {batch.id} is still {batch.status}")


class BatchNotFinished(InfergateError):
    """The batch has no result files yet."""

    def __init__(self, batch: Batch) -> None:
        self.batch = batch
        super().__init__(f"batch {batch.id} is {batch.status}: its results are not written yet")


class WebhookVerificationError(InfergateError):
    """A webhook's signature or timestamp did not check out: do not trust its body."""


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    422: InvalidInput,
    429: RateLimited,
    503: ServiceUnavailable,
}


def error_class(status: int) -> type[APIError]:
    """The exception class of an error status."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return ServerError if status >= 500 else APIError


def api_error(response: httpx.Response) -> APIError:
    """The exception for an error response (its body already read)."""
    status = response.status_code
    problem = _problem(response)
    request_id = response.headers.get("x-request-id")
    cls = error_class(status)
    if cls is RateLimited:
        return RateLimited(status, problem, request_id, retry_after(response))
    return cls(status, problem, request_id)


def retry_after(response: httpx.Response, now: float | None = None) -> float | None:
    """The ``Retry-After`` header in seconds from now (delta-seconds or an HTTP date); None if absent or unusable."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    return max(0.0, seconds) if seconds == seconds else None  # NaN is unusable


def _problem(response: httpx.Response) -> Problem:
    """The problem document, or one made from whatever the body is."""
    status = response.status_code
    body: Any = None
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    if isinstance(body, dict):
        fallback = {
            "type": "about:blank",
            "title": _phrase(status),
            "status": status,
            "detail": _detail_of(body),
            "instance": response.request.url.path if _has_request(response) else "",
        }
        try:
            return Problem.model_validate({**fallback, **body})
        except ValueError:
            return Problem.model_validate(fallback)
    text = response.text.strip()
    return Problem(
        type="about:blank",
        title=_phrase(status),
        status=status,
        detail=text[:_SHOWN_BODY],
        instance=response.request.url.path if _has_request(response) else "",
    )


def _detail_of(body: dict[str, Any]) -> str:
    """A detail from a body that may not be a problem (e.g. OpenAI's ``{"error": {"message"}}``)."""
    error = body.get("error")
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    if isinstance(error, str):
        return error
    message = body.get("message")
    return message if isinstance(message, str) else ""


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def _has_request(response: httpx.Response) -> bool:
    try:
        response.request  # noqa: B018 - raises when the response was built without one
    except RuntimeError:
        return False
    return True
