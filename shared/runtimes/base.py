"""The runtime interface every model implementation follows."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

JsonObject = dict[str, Any]

TIMEOUT = "timeout"  # the failure code of an input whose model call ran out of its time budget
INPUT_TOO_LONG = "input_too_long"  # the failure code of a text longer than its model takes


@dataclass(frozen=True)
class ModelFailure:
    """One input the model could not handle; fails only that input."""

    code: str
    message: str


def timed_out(seconds: float) -> ModelFailure:
    return ModelFailure(TIMEOUT, f"The model did not finish within its time limit of {seconds:g} s.")


@dataclass(frozen=True)
class Unfinished:
    """The call's time limit ended before this input finished, and the input did not have the limit to itself
    (it ran together with other inputs, or after them): says nothing about the input. A caller that can
    runs it again alone, with a whole limit; only then is a ``timeout`` the input's own outcome."""

    seconds: float  # the call's limit

    def as_failure(self) -> ModelFailure:
        """For a caller that cannot run it again (a request answered as a whole): the call timed out."""
        return timed_out(self.seconds)


RuntimeResult = JsonObject | ModelFailure | Unfinished
FinalResult = JsonObject | ModelFailure  # a result that is the input's own


def settled(result: RuntimeResult) -> FinalResult:
    """The result as final: an input stopped with others counts as timed out."""
    return result.as_failure() if isinstance(result, Unfinished) else result


class ModelRuntime(Protocol):
    def predict(self, inputs: Sequence[Mapping[str, Any]], timeout: float | None = None) -> list[RuntimeResult]:
        """Return one result per input, in order.

        ``timeout`` bounds the whole call in seconds: a runtime that can stop a running model (ONNX) fails
        an input it has not finished by then with a ``timeout`` failure when the input had the limit to
        itself, and reports it ``Unfinished`` when it shared the limit with other inputs; built-in runtimes
        do bounded work and ignore it.
        """
        ...
