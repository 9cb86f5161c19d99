"""OIP tensors, the codec's error, limits and shape helpers."""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shared.registry.models import DATATYPES

MAX_ELEMENTS = 1_000_000
MAX_RANK = 8
_MAX_SHOWN_NAME = 64


class OipError(Exception):
    """A request (or response) the codec refuses; ``str()`` is safe to show a client and never holds tensor data."""


@dataclass(frozen=True)
class Tensor:
    """A named tensor: ``data`` is flat and row-major (BYTES elements are ``str``, or ``bytes`` in outputs)."""

    name: str
    datatype: str
    shape: tuple[int, ...]
    data: list[Any]


def element_count(shape: Sequence[int]) -> int:
    """The number of elements a tensor of this shape holds (1 for a scalar)."""
    return math.prod(shape)


def shown(name: str) -> str:
    """A tensor name quoted for an error message, shortened when long."""
    text = name if len(name) <= _MAX_SHOWN_NAME else name[:_MAX_SHOWN_NAME] + "..."
    return repr(text)


def check_datatype(datatype: object, what: str) -> str:
    """The datatype when it is a known OIP datatype, else OipError."""
    if not isinstance(datatype, str) or datatype not in DATATYPES:
        raise OipError(f"{what} has an unknown datatype; use one of {', '.join(sorted(DATATYPES))}.")
    return datatype


def check_shape(shape: object, what: str) -> tuple[int, ...]:
    """The shape as a tuple when it is a list of at most MAX_RANK non-negative ints, else OipError."""
    if not isinstance(shape, list | tuple):
        raise OipError(f"{what} needs a shape: a list of non-negative integers.")
    if len(shape) > MAX_RANK:
        raise OipError(f"{what} has rank {len(shape)}; at most {MAX_RANK} dimensions are supported.")
    for dim in shape:
        if not isinstance(dim, int) or isinstance(dim, bool) or dim < 0:
            raise OipError(f"{what} has a shape whose dimensions are not all non-negative integers.")
    if math.prod(max(dim, 1) for dim in shape) > MAX_ELEMENTS:
        raise OipError(f"{what} has a shape too large; its non-zero dimensions may hold at most {MAX_ELEMENTS}.")
    return tuple(shape)


def check_elements_limit(count: int, what: str) -> None:
    """OipError when ``count`` exceeds MAX_ELEMENTS."""
    if count > MAX_ELEMENTS:
        raise OipError(f"{what} holds {count} elements; at most {MAX_ELEMENTS} are supported.")
