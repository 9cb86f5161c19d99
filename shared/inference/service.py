"""The synchronous predict use case, shared by ``POST /v1/models/{name}/predict`` and the OIP infer route.

The same registry, validation and runtime calls as the asynchronous worker, so a model gives the
same output both ways.
"""

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.inference.errors import ModelUnavailableError, prediction_failed
from shared.kernel import tracing
from shared.kernel.jsoncodec import encoded_size
from shared.kernel.observability import logger
from shared.predictions.models import InputTooLargeError
from shared.predictions.service import MAX_INPUT_BYTES
from shared.registry.models import ModelRef, ModelVersion
from shared.registry.service import ModelRegistry
from shared.runtimes.base import ModelFailure, ModelRuntime, RuntimeResult, settled
from shared.runtimes.calls import predict_isolating_faults
from shared.runtimes.loader import RuntimeUnavailableError

RuntimeLoader = Callable[[ModelVersion], ModelRuntime]


@dataclass(frozen=True)
class SyncPrediction:
    version: ModelVersion
    output: dict[str, Any]
    predict_time: float


class InferenceService:
    def __init__(self, registry: ModelRegistry, load_runtime: RuntimeLoader, call_seconds: float | None = None) -> None:
        """``call_seconds`` bounds each model call: inputs it does not finish fail with ``timeout``."""
        self._registry = registry
        self._load_runtime = load_runtime
        self._call_seconds = call_seconds

    def resolve(self, tenant: str, ref: str) -> ModelVersion:
        """``name`` or ``name:version``; raise ``ModelNotFoundError`` (404) for an unknown or malformed one."""
        return self.resolve_ref(tenant, ModelRef.of_path(ref))

    def resolve_ref(self, tenant: str, ref: ModelRef) -> ModelVersion:
        return self._registry.resolve(tenant, ref)

    def validate(self, version: ModelVersion, payload: Mapping[str, Any], pointer: str = "/input") -> None:
        if encoded_size(payload) > MAX_INPUT_BYTES:
            raise InputTooLargeError(MAX_INPUT_BYTES)
        self._registry.validate_input(version, payload, pointer)

    def predict(self, tenant: str, ref: str, payload: Mapping[str, Any]) -> SyncPrediction:
        version = self.resolve(tenant, ref)
        self.validate(version, payload)
        [outcome], predict_time = self.run(version, [payload], tenant=tenant)
        result = settled(outcome)  # one input: it had the limit to itself
        if isinstance(result, ModelFailure):
            raise prediction_failed(result)
        return SyncPrediction(version, result, predict_time)

    def run(
        self, version: ModelVersion, inputs: Sequence[Mapping[str, Any]], tenant: str | None = None
    ) -> tuple[list[RuntimeResult], float]:
        """Already validated inputs, in one runtime call; also the seconds the call took. With several inputs,
        those stopped together at the time limit are ``Unfinished``. ``tenant`` annotates the call's span."""
        runtime = self.runtime(version)
        began = time.perf_counter()
        attributes = {tracing.TENANT: tenant, tracing.MODEL: version.name, tracing.MODEL_VERSION: version.version}
        with tracing.span(tracing.MODEL_CALL_SPAN, {**attributes, "infergate.inputs": len(inputs)}):
            results = predict_isolating_faults(runtime, inputs, version.name, self._call_seconds)
        return results, time.perf_counter() - began

    def runtime(self, version: ModelVersion) -> ModelRuntime:
        """The version's loaded runtime; ``ModelUnavailableError`` (503) when it cannot be loaded."""
        try:
            return self._load_runtime(version)
        except RuntimeUnavailableError:
            logger.exception("model unavailable", extra={"model": version.name, "version": version.version})
            raise ModelUnavailableError() from None

    @property
    def call_seconds(self) -> float | None:
        """The time limit of one model call (``ModelTimeSettings``)."""
        return self._call_seconds
