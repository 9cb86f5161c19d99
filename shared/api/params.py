"""Parameters shared by several routes."""

from typing import Annotated

from fastapi import Header, Path, Query

Limit = Annotated[int, Query(ge=1, le=100, description="Page size, 1-100.")]
Cursor = Annotated[str | None, Query(max_length=1024, description="Opaque cursor from a previous page's `next`.")]
PredictionIdPath = Annotated[str, Path(max_length=64, description="A prediction id (`pred_...`).")]
KeyIdPath = Annotated[str, Path(max_length=64, description="An API key id (`key_...`).")]
ModelNamePath = Annotated[str, Path(max_length=64, description="A model name.")]
ModelRefPath = Annotated[str, Path(max_length=80, description="`name` (latest version) or `name:version`.")]
OipModelNamePath = Annotated[str, Path(max_length=64, description="A model name.")]
OipModelVersionPath = Annotated[str, Path(max_length=16, description="A version number; empty means the latest.")]
PreferHeader = Annotated[
    str | None,
    Header(
        max_length=200,
        description="`wait` or `wait=N` (1-60 s): hold the response until the prediction is terminal "
        "or N seconds pass (capped below API Gateway's 30 s limit; see `Preference-Applied`).",
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
