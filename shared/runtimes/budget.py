"""A worker's time for model calls: each call's limit, and whether the invocation still has room for one."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class WorkerBudget:
    call_seconds: float  # how long one model call may run before it is stopped
    reserve_seconds: float  # kept after a call, to record its results
    remaining_seconds: Callable[[], float]  # what is left of the invocation (Lambda's context)

    def allows_a_call(self) -> bool:
        """Whether a whole call and the reserve still fit. Work that does not is left for another
        invocation, so every call gets the same limit and a ``timeout`` never depends on its neighbours."""
        return self.remaining_seconds() >= self.call_seconds + self.reserve_seconds
