"""Parameters shared by several routes."""

from typing import Annotated

from annotated_types import Le
from fastapi import Header, Path, Query

from shared.settings import ApiSettings

Limit = Annotated[int, Query(ge=1, le=100, description="Page size, 1-100.")]
Cursor = Annotated[str | None, Query(max_length=1024, description="Opaque cursor from a previous page's `next`.")]
PredictionIdPath = Annotated[str, Path(max_length=64, description="A prediction id (`pred_...`).")]
KeyIdPath = Annotated[str, Path(max_length=64, description="An API key id (`key_...`).")]
# Model names and versions in paths have no length limit here: the registry judges them whole, so a name
# that is too long gets the same answer as any other malformed one (404 where a URL looks a model up, 422
# where it registers one) rather than a 400 from parameter validation.
_NAME = "1-64 lower-case letters, digits, '-' and '_', starting with a letter or digit"
ModelNamePath = Annotated[str, Path(description=f"A model name: {_NAME}.")]
ModelRefPath = Annotated[str, Path(description="`name` (latest version) or `name:version` (pinned).")]
OipModelNamePath = Annotated[str, Path(description="A model name.")]
OipModelVersionPath = Annotated[str, Path(description="A version number (from 1).")]
_WAIT = ApiSettings.model_fields["max_wait_seconds"]
_WAIT_CAP = next(constraint.le for constraint in _WAIT.metadata if isinstance(constraint, Le))
PreferHeader = Annotated[
    str | None,
    Header(
        max_length=200,
        description='RFC 7240: `wait` or `wait=N` (N whole seconds from 1; `wait="N"` too) holds the response '
        "until the prediction ends or the wait passes, at most the deployment's cap (the template's "
        f"`MaxWaitSeconds`, default {_WAIT.default:g} s, never over {_WAIT_CAP:g} s: API Gateway ends a request at "
        "30 s). A longer "
        "wait is cut to that cap, a bare `wait` waits the cap; the wait used is echoed in `Preference-Applied`. "
        "Other or unusable preferences are ignored.",
    ),
]
DEFAULT_LIMIT = 20
IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Any printable ASCII token (<=255). The same key and body within 24 h answer what the first "
        "request created (201); the same key with a different body is a 409. A create answered 503 (it could "
        "not be queued) frees its key: retry with it.",
    ),
]
BatchIdPath = Annotated[str, Path(max_length=64, description="A batch id (`bat_...`).")]
AfterBatchQuery = Annotated[
    str | None,
    Query(
        max_length=64,
        description="A batch id (`bat_...`, OpenAI's `after`): the page of the caller's batches that follows it, "
        "newest first. Not with `cursor`.",
    ),
]
