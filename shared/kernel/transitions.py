"""The one shape of a status change, shared by predictions and batches.

A change names the ``status`` it writes, the ``sources`` it may be written from (the write is conditional
on them), the moment ``at``, the webhook ``deliveries`` written in the same transaction, and ``apply``:
the subject as the write leaves it. A store writes one with ``transition(subject, change)``, where
``subject`` is what the caller holds, so the store can answer from it instead of reading the item back.
"""

from enum import StrEnum
from typing import Any, Protocol, TypeVar

from shared.kernel.outbox import PlannedDelivery

S_co = TypeVar("S_co", bound=StrEnum, covariant=True)
T = TypeVar("T")


class StatusTransition(Protocol[S_co, T]):
    @property
    def status(self) -> S_co: ...

    @property
    def sources(self) -> frozenset[S_co]: ...

    @property
    def at(self) -> str: ...

    @property
    def deliveries(self) -> tuple[PlannedDelivery, ...]: ...

    def apply(self, subject: T) -> T:
        """``subject`` with the change's fields written."""
        ...


C_contra = TypeVar("C_contra", bound=StatusTransition[StrEnum, Any], contravariant=True)


class TransitionStore(Protocol[T, C_contra]):
    def transition(self, subject: T, change: C_contra) -> T:
        """Write ``change`` if the stored status is one of its sources and return the subject as stored;
        else raise the feature's rejected error carrying the current state."""
        ...
