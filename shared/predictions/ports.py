"""What the prediction services need from storage and queues (adapters and test fakes implement these)."""

from typing import Protocol

from shared.kernel.idempotency import IdempotencyClaim
from shared.kernel.transitions import TransitionStore
from shared.predictions.models import Prediction, Transition


class PredictionStore(TransitionStore[Prediction, Transition], Protocol):
    """``transition`` raises ``TransitionRejectedError`` (carrying the current prediction) when it loses."""

    def create(self, prediction: Prediction, claim: IdempotencyClaim | None = None) -> None:
        """Store a new prediction (and its idempotency claim, atomically); never overwrites anything.

        Raise ``IdempotentReplayError`` when the claim's key is already held by an unexpired claim.
        """
        ...

    def release(self, prediction: Prediction, claim: IdempotencyClaim) -> None:
        """Free the claim's key at once, if it still names ``prediction`` (it was never queued)."""
        ...

    def get(self, tenant: str, prediction_id: str) -> Prediction:
        """Raise ``PredictionNotFoundError`` when the tenant has no such prediction."""
        ...

    def list(self, tenant: str, limit: int, after: str | None) -> tuple[list[Prediction], str | None]:
        """Newest first; ``after`` and the returned position are opaque store positions."""
        ...


class PredictionQueue(Protocol):
    def enqueue(self, tenant: str, prediction_id: str, correlation_id: str | None) -> None: ...
