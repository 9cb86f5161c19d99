"""The worker's use case: run one queued prediction exactly once, whatever the queue delivers.

Idempotent by construction: every status change is a conditional write, so a duplicate message,
a redelivery after a crash, or a cancel racing the model all end with one terminal state.
"""

import time
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from shared.observability import logger, metrics
from shared.predictions.models import (
    Prediction,
    PredictionError,
    PredictionNotFoundError,
    PredictionStatus,
    TransitionRejectedError,
)
from shared.predictions.ports import PredictionStore
from shared.predictions.transitions import Transitions
from shared.registry.models import ModelNotFoundError, ModelRef, ModelVersion
from shared.registry.service import ModelRegistry
from shared.runtimes.base import ModelFailure, ModelRuntime
from shared.runtimes.loader import RuntimeUnavailableError


class RunOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"  # already finished, canceled, expired, or finished by another delivery


RuntimeLoader = Callable[[ModelVersion], ModelRuntime]


class PredictionRunner:
    def __init__(
        self, store: PredictionStore, transitions: Transitions, registry: ModelRegistry, load_runtime: RuntimeLoader
    ) -> None:
        self._store = store
        self._transitions = transitions
        self._registry = registry
        self._load_runtime = load_runtime

    def run(self, tenant: str, prediction_id: str) -> RunOutcome:
        """Infrastructure faults (``TransientError``) propagate so the message is redelivered."""
        try:
            prediction = self._store.get(tenant, prediction_id)
        except PredictionNotFoundError:
            logger.warning("queued prediction no longer exists", extra={"prediction_id": prediction_id})
            return RunOutcome.SKIPPED
        started = self._start(prediction)
        if started is None:
            return RunOutcome.SKIPPED
        status, result = self._predict(started)
        try:
            finished = self._transitions.move(started, status, **result)
        except TransitionRejectedError as lost:
            logger.info(
                "prediction result discarded", extra={"prediction_id": prediction_id, "status": lost.current.status}
            )
            return RunOutcome.SKIPPED
        metrics.add_metric(name=f"Prediction{finished.status.value.capitalize()}", unit="Count", value=1)
        logger.info("prediction finished", extra={"prediction_id": prediction_id, "status": finished.status})
        return RunOutcome(finished.status.value)

    def _start(self, prediction: Prediction) -> Prediction | None:
        """Move to ``processing``; a prediction already there (a redelivery) is run again."""
        if prediction.status is PredictionStatus.PROCESSING:
            logger.info("prediction redelivered while processing", extra={"prediction_id": prediction.id})
            return prediction
        if prediction.status is not PredictionStatus.STARTING:
            return None
        try:
            return self._transitions.move(prediction, PredictionStatus.PROCESSING)
        except TransitionRejectedError as lost:
            return lost.current if lost.current.status is PredictionStatus.PROCESSING else None

    def _predict(self, prediction: Prediction) -> tuple[PredictionStatus, dict[str, Any]]:
        try:
            version = self._registry.resolve(ModelRef(prediction.model, prediction.version))
            runtime = self._load_runtime(version)
        except (ModelNotFoundError, RuntimeUnavailableError):
            logger.exception("model unavailable", extra={"prediction_id": prediction.id, "model": prediction.model})
            unavailable = PredictionError("model_unavailable", "This model version is not available.")
            return PredictionStatus.FAILED, {"error": unavailable}
        began = time.perf_counter()
        try:
            [result] = runtime.predict([prediction.input])
        except Exception:  # noqa: BLE001 - any model fault fails this prediction, without a retry storm
            logger.exception("model raised", extra={"prediction_id": prediction.id, "model": prediction.model})
            result = ModelFailure("model_error", "The model failed on this input.")
        predict_time = time.perf_counter() - began
        if isinstance(result, ModelFailure):
            error = PredictionError(result.code, result.message)
            return PredictionStatus.FAILED, {"error": error, "predict_time": predict_time}
        return PredictionStatus.SUCCEEDED, {"output": result, "predict_time": predict_time}
