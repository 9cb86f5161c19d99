"""The messages of the three queues: pydantic models, read and written by one codec per queue.

The wire format is the one earlier versions write and read, so both can run side by side: single
predictions and webhook deliveries carry no ``kind``; a batch chunk carries ``"kind": "batch_chunk"``
and a batch step its step as ``kind``. The predictions queue carries two kinds of message, told apart
by ``kind`` (absent: a single prediction). Unknown fields are ignored, as earlier readers ignore them.
"""

import json
from enum import StrEnum
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Strict, Tag, TypeAdapter, ValidationError

from shared.kernel.errors import InfergateError


class MalformedMessageError(InfergateError):
    """A queue message that is not ours. Reported as failed, so it reaches the queue's DLQ for a human."""


Natural = Annotated[int, Strict(), Field(ge=0)]  # strict: neither "1", 1.0 nor true is a count


class _Message(BaseModel):
    # hide_input_in_errors: a foreign body's content stays out of the logged error, as ids-only logs require
    model_config = ConfigDict(frozen=True, extra="ignore", hide_input_in_errors=True)


class RunPrediction(_Message):
    """Predictions queue: run one queued prediction."""

    tenant: str
    prediction_id: str


class RunBatchChunk(_Message):
    """Predictions queue: run lines ``start``-``end`` (bytes) of a batch's input, numbered from ``first_line``.
    The message is the chunk runner's job."""

    kind: Literal["batch_chunk"] = "batch_chunk"
    tenant: str
    batch_id: str
    chunk: Natural
    first_line: Natural
    start: Natural
    end: Natural


class DeliverWebhook(_Message):
    """Webhooks queue (and its dead-letter queue): attempt one webhook delivery."""

    tenant: str
    prediction_id: str
    delivery_id: str


class BatchStepKind(StrEnum):
    VALIDATE = "validate"
    FINALIZE = "finalize"
    RESUME = "resume"  # the sweeper: send again what the batch is waiting for
    EXPIRE = "expire"  # the sweeper: fail what is left with ``timeout`` and finish the batch


class BatchStep(_Message):
    """Batches queue: the next validation step of a batch (from byte ``offset``, line ``line``), its end, or
    the sweeper's resume or expiry of it. Every step writes ``offset`` and ``line``: earlier readers need them."""

    kind: BatchStepKind
    tenant: str
    batch_id: str
    offset: Natural = 0
    line: Natural = 1


_SINGLE_PREDICTION = "prediction"  # the tag of a body without ``kind``


def _predictions_queue_tag(value: Any) -> str | None:
    """A body's ``kind``, or ``prediction`` when it has none; None (refused) for anything but an object."""
    if isinstance(value, dict):
        kind = value.get("kind", _SINGLE_PREDICTION)
        return kind if isinstance(kind, str) else None
    return getattr(value, "kind", _SINGLE_PREDICTION) if isinstance(value, _Message) else None


PredictionsQueueMessage = Annotated[
    Annotated[RunPrediction, Tag(_SINGLE_PREDICTION)] | Annotated[RunBatchChunk, Tag("batch_chunk")],
    Discriminator(_predictions_queue_tag),
]


MessageT = TypeVar("MessageT")


class QueueCodec(Generic[MessageT]):
    """Reads and writes the bodies of one queue's messages."""

    def __init__(self, adapter: TypeAdapter[MessageT], queue: str) -> None:
        self._adapter = adapter
        self._queue = queue

    def read(self, body: str) -> MessageT:
        try:
            return self._adapter.validate_json(body)
        except ValidationError as exc:
            raise MalformedMessageError(f"not a {self._queue} message") from exc

    def write(self, message: MessageT) -> str:
        # json.dumps' separators, in field order: the very bytes earlier versions write for the same message
        return json.dumps(self._adapter.dump_python(message, mode="json"))


PREDICTIONS_QUEUE = QueueCodec(
    TypeAdapter[RunPrediction | RunBatchChunk](PredictionsQueueMessage, config=ConfigDict(hide_input_in_errors=True)),
    "predictions queue",
)
WEBHOOKS_QUEUE = QueueCodec(TypeAdapter(DeliverWebhook), "webhooks queue")
BATCHES_QUEUE = QueueCodec(TypeAdapter(BatchStep), "batches queue")
