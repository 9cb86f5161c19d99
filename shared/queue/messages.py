"""The shape of a predictions-queue message, shared by the publisher and the worker."""

import json
from dataclasses import dataclass
from typing import Any

from shared.errors import InfergateError


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
