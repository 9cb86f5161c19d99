"""The runtime interface every model implementation follows."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

JsonObject = dict[str, Any]

TIMEOUT = "timeout"  # the failure code of an input whose model call ran out of its time budget


@dataclass(frozen=True)
class ModelFailure:
    """One input the model could not handle; fails only that input."""

    code: str
    message: str


RuntimeResult = JsonObject | ModelFailure


def timed_out(seconds: float) -> ModelFailure:
    return ModelFailure(TIMEOUT, f"The model did not finish within its time limit of {seconds:g} s.")


class ModelRuntime(Protocol):
    def predict(self, inputs: Sequence[Mapping[str, Any]], timeout: float | None = None) -> list[RuntimeResult]:
        """Return one result per input, in order.

        ``timeout`` bounds the whole call in seconds: a runtime that can stop a running model (ONNX) fails
        the inputs it has not finished by then with a ``timeout`` failure; built-in runtimes do bounded
        work and ignore it.
        """
        ...
