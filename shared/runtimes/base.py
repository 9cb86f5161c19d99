"""The runtime interface every model implementation follows."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

JsonObject = dict[str, Any]


@dataclass(frozen=True)
class ModelFailure:
    """One input the model could not handle; fails only that input."""

    code: str
    message: str


RuntimeResult = JsonObject | ModelFailure


class ModelRuntime(Protocol):
    def predict(self, inputs: Sequence[Mapping[str, Any]]) -> list[RuntimeResult]:
        """Return one result per input, in order."""
        ...
