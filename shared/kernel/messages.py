"""The shape of a predictions-queue message, shared by the publisher and the worker."""

import json
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from shared.kernel.errors import InfergateError


class MalformedMessageError(InfergateError):
    """A queue message that is not ours. Reported as failed, so it reaches the queue's DLQ for a human."""


@dataclass(frozen=True)
class RunPrediction:
    tenant: str
    prediction_id: str

    def to_body(self) -> str:
        return json.dumps({"tenant": self.tenant, "prediction_id": self.prediction_id})

    @classmethod
    def from_body(cls, body: str) -> "RunPrediction":
        try:
            data: Any = json.loads(body)
            return cls(tenant=str(data["tenant"]), prediction_id=str(data["prediction_id"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise MalformedMessageError("not a prediction message") from exc


@dataclass(frozen=True)
class DeliverWebhook:
    tenant: str
    prediction_id: str
    delivery_id: str

    def to_body(self) -> str:
        return json.dumps({"tenant": self.tenant, "prediction_id": self.prediction_id, "delivery_id": self.delivery_id})

    @classmethod
    def from_body(cls, body: str) -> "DeliverWebhook":
        try:
            data: Any = json.loads(body)
            return cls(str(data["tenant"]), str(data["prediction_id"]), str(data["delivery_id"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise MalformedMessageError("not a webhook delivery message") from exc


@dataclass(frozen=True)
class RunBatchChunk:
    """Predictions queue: run lines ``start``-``end`` (bytes) of a batch's input, numbered from ``first_line``."""

    tenant: str
    batch_id: str
    chunk: int
    first_line: int
    start: int
    end: int

    KIND = "batch_chunk"

    def to_body(self) -> str:
        return json.dumps({"kind": self.KIND, **asdict(self)})

    @classmethod
    def from_body(cls, body: str) -> "RunBatchChunk":
        try:
            data: Any = json.loads(body)
            if data["kind"] != cls.KIND:
                raise ValueError(data["kind"])
            return cls(
                tenant=str(data["tenant"]),
                batch_id=str(data["batch_id"]),
                chunk=_natural(data["chunk"]),
                first_line=_natural(data["first_line"]),
                start=_natural(data["start"]),
                end=_natural(data["end"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise MalformedMessageError("not a batch chunk message") from exc


class BatchStepKind(StrEnum):
    VALIDATE = "validate"
    FINALIZE = "finalize"
    RESUME = "resume"  # the sweeper: send again what the batch is waiting for
    EXPIRE = "expire"  # the sweeper: fail what is left with ``timeout`` and finish the batch


@dataclass(frozen=True)
class BatchStep:
    """Batches queue: the next validation step of a batch (from byte ``offset``, line ``line``), its end, or
    the sweeper's resume or expiry of it."""

    kind: BatchStepKind
    tenant: str
    batch_id: str
    offset: int = 0
    line: int = 1

    def to_body(self) -> str:
        return json.dumps({**asdict(self), "kind": self.kind.value})

    @classmethod
    def from_body(cls, body: str) -> "BatchStep":
        try:
            data: Any = json.loads(body)
            return cls(
                kind=BatchStepKind(data["kind"]),
                tenant=str(data["tenant"]),
                batch_id=str(data["batch_id"]),
                offset=_natural(data["offset"]),
                line=_natural(data["line"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise MalformedMessageError("not a batch step message") from exc


def _natural(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError("not a natural number")
    return value


def predictions_queue_message(body: str) -> RunPrediction | RunBatchChunk:
    """The predictions queue carries single predictions and chunks of batches."""
    if '"kind"' in body and '"batch_chunk"' in body:
        return RunBatchChunk.from_body(body)
    return RunPrediction.from_body(body)
