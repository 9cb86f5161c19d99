"""Opaque, URL-safe, time-sortable identifiers with a type prefix (``pred_<ULID>``)."""

import re
from enum import StrEnum

from ulid import ULID

_ULID_PATTERN = "[0-9A-HJKMNP-TV-Z]{26}"


class IdKind(StrEnum):
    PREDICTION = "pred"
    KEY = "key"
    BATCH = "bat"
    UPLOAD = "upl"
    DELIVERY = "dlv"
    FILE = "file"
    PART = "part"


def new_id(kind: IdKind) -> str:
    return f"{kind.value}_{ULID()}"


def id_pattern(kind: IdKind) -> str:
    """Regular expression (anchored) that every id of this kind matches."""
    return f"^{kind.value}_{_ULID_PATTERN}$"


def is_valid_id(kind: IdKind, value: str) -> bool:
    return re.fullmatch(id_pattern(kind), value) is not None
