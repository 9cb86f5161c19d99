"""Call a runtime on many inputs so that a model fault fails only the inputs that caused it."""

from collections.abc import Mapping, Sequence
from typing import Any

from shared.kernel.observability import logger
from shared.runtimes.base import TIMEOUT, ModelFailure, ModelRuntime, RuntimeResult, Unfinished

MODEL_ERROR = ModelFailure("model_error", "The model failed on this input.")


def predict_isolating_faults(
    runtime: ModelRuntime, inputs: Sequence[Mapping[str, Any]], model: str, timeout: float | None = None
) -> list[RuntimeResult]:
    """One result per input. A runtime that raises (or miscounts) on a batch is retried one input at a time.

    ``timeout`` bounds the runtime call (seconds). An input it did not finish fails with ``timeout`` when it
    was the call's only input; with other inputs it is ``Unfinished`` (it may be one of them that was slow),
    for the caller to run again alone.
    """
    results = _predict(runtime, inputs, model, timeout)
    if any(
        isinstance(result, Unfinished) or (isinstance(result, ModelFailure) and result.code == TIMEOUT)
        for result in results
    ):
        logger.warning("model call stopped at its time limit", extra={"model": model, "seconds": timeout})
    return results


def _predict(
    runtime: ModelRuntime, inputs: Sequence[Mapping[str, Any]], model: str, timeout: float | None
) -> list[RuntimeResult]:
    try:
        results = runtime.predict(inputs, timeout)
        if len(results) == len(inputs):
            if len(inputs) == 1 and isinstance(results[0], Unfinished):  # it had the limit to itself
                return [results[0].as_failure()]
            return results
        logger.error("model returned the wrong number of results", extra={"model": model})
    except Exception:  # noqa: BLE001 - any model fault fails predictions, never the batch or the queue
        if len(inputs) == 1:
            logger.exception("model raised", extra={"model": model})
            return [MODEL_ERROR]
        logger.warning("model raised on a micro-batch; retrying one by one", extra={"model": model})
    if len(inputs) == 1:
        return [MODEL_ERROR]
    return [result for item in inputs for result in _predict(runtime, [item], model, timeout)]
