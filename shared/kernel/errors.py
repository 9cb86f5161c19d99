"""The root of every domain error. Each domain keeps its own errors next to its models.

The HTTP glue maps these classes to RFC 9457 problems in one table (``shared.api.problems``);
queue workers decide retry versus give-up by class, never by message text.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One validation problem: a JSON pointer into the request and a message safe to show."""

    pointer: str
    detail: str


class InfergateError(Exception):
    """Base for errors the service raises on purpose; ``str()`` is safe to show a caller."""


class NotFoundError(InfergateError):
    """The resource does not exist for this tenant (another tenant's resource is also 'not found')."""


class InvalidRequestError(InfergateError):
    """The request is well-formed JSON but not acceptable (422)."""


class BadRequestError(InfergateError):
    """The request cannot be interpreted at all (400)."""


class ConflictError(InfergateError):
    """The request conflicts with the current state (409)."""


class TransientError(InfergateError):
    """An infrastructure fault worth retrying (throttling, timeouts). Never the caller's fault."""


class ExpectedRetryError(Exception):
    """A queue record's handler asks for a later redelivery on purpose (logged quietly, not as an error)."""
