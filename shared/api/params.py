"""Parameters shared by several routes."""

from typing import Annotated

from fastapi import Header, Path, Query

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
PreferHeader = Annotated[
    str | None,
    Header(
        max_length=200,
        description='`wait` or `wait=N` (1-60 s; `wait="N"` too, RFC 7240): hold the response until the '
        "prediction is terminal or N seconds pass (capped below API Gateway's 30 s limit; see "
        "`Preference-Applied`). Other or unusable preferences are ignored.",
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
        description="Any printable ASCII token (<=255). The same key and body within 24 h return the first "
        "prediction again (201); the same key with a different body is a 409.",
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
