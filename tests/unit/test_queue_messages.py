"""Queue messages keep the running version's wire format: its bodies are read, the same bytes are written,
and anything else is refused as malformed (the consumer fails it, so it reaches the DLQ).

The literal bodies below are what the hand-written codecs wrote before the messages became pydantic models
(``json.dumps`` of the fields, in this order); they must never change while an older version may run.
"""

from typing import Any

import pytest

from shared.kernel.messages import (
    BATCHES_QUEUE,
    PREDICTIONS_QUEUE,
    WEBHOOKS_QUEUE,
    BatchStep,
    BatchStepKind,
    DeliverWebhook,
    MalformedMessageError,
    QueueCodec,
    RunBatchChunk,
    RunPrediction,
)

WIRE: list[tuple[QueueCodec[Any], str, object]] = [
    (
        PREDICTIONS_QUEUE,
        '{"tenant": "acme", "prediction_id": "pred_1"}',
        RunPrediction(tenant="acme", prediction_id="pred_1"),
    ),
    (
        PREDICTIONS_QUEUE,
        '{"kind": "batch_chunk", "tenant": "acme", "batch_id": "bat_1", "chunk": 3, "first_line": 301, "start": 1200,'
        ' "end": 2400}',
        RunBatchChunk(tenant="acme", batch_id="bat_1", chunk=3, first_line=301, start=1200, end=2400),
    ),
    (
        WEBHOOKS_QUEUE,
        '{"tenant": "acme", "prediction_id": "pred_1", "delivery_id": "dlv_1"}',
        DeliverWebhook(tenant="acme", prediction_id="pred_1", delivery_id="dlv_1"),
    ),
    (
        BATCHES_QUEUE,
        '{"kind": "validate", "tenant": "acme", "batch_id": "bat_1", "offset": 4096, "line": 77}',
        BatchStep(kind=BatchStepKind.VALIDATE, tenant="acme", batch_id="bat_1", offset=4096, line=77),
    ),
    (
        BATCHES_QUEUE,
        '{"kind": "validate", "tenant": "acme", "batch_id": "bat_1", "offset": 0, "line": 1}',
        BatchStep(kind=BatchStepKind.VALIDATE, tenant="acme", batch_id="bat_1"),
    ),
    (
        BATCHES_QUEUE,
        '{"kind": "finalize", "tenant": "acme", "batch_id": "bat_1", "offset": 0, "line": 1}',
        BatchStep(kind=BatchStepKind.FINALIZE, tenant="acme", batch_id="bat_1"),
    ),
    (
        BATCHES_QUEUE,
        '{"kind": "resume", "tenant": "acme", "batch_id": "bat_1", "offset": 0, "line": 1}',
        BatchStep(kind=BatchStepKind.RESUME, tenant="acme", batch_id="bat_1"),
    ),
    (
        BATCHES_QUEUE,
        '{"kind": "expire", "tenant": "acme", "batch_id": "bat_1", "offset": 0, "line": 1}',
        BatchStep(kind=BatchStepKind.EXPIRE, tenant="acme", batch_id="bat_1"),
    ),
]
WIRE_IDS = [f"{type(message).__name__}-{body[:20]}" for _, body, message in WIRE]


@pytest.mark.parametrize(("codec", "body", "message"), WIRE, ids=WIRE_IDS)
def test_a_body_the_running_version_wrote_is_read(codec: QueueCodec[Any], body: str, message: object) -> None:
    # Given a body as the running version writes it
    # When its queue's codec reads it
    read = codec.read(body)

    # Then it is that message, of that type
    assert read == message
    assert type(read) is type(message)


@pytest.mark.parametrize(("codec", "body", "message"), WIRE, ids=WIRE_IDS)
def test_a_message_is_written_as_the_running_version_writes_it(
    codec: QueueCodec[Any], body: str, message: object
) -> None:
    # Given a message
    # When its queue's codec writes it
    written = codec.write(message)

    # Then the body is byte for byte the running version's (field names, order, kind, separators)
    assert written == body


@pytest.mark.parametrize(
    ("codec", "body", "message"),
    [
        (
            PREDICTIONS_QUEUE,
            '{"tenant": "acme", "prediction_id": "pred_1", "priority": 5}',
            RunPrediction(tenant="acme", prediction_id="pred_1"),
        ),
        (
            PREDICTIONS_QUEUE,
            '{"end": 9, "start": 0, "first_line": 1, "chunk": 0, "batch_id": "b", "tenant": "a",'
            ' "kind": "batch_chunk"}',
            RunBatchChunk(tenant="a", batch_id="b", chunk=0, first_line=1, start=0, end=9),
        ),
        (
            WEBHOOKS_QUEUE,
            '{"tenant": "a", "prediction_id": "p", "delivery_id": "d", "note": "x"}',
            DeliverWebhook(tenant="a", prediction_id="p", delivery_id="d"),
        ),
    ],
)
def test_unknown_fields_and_any_key_order_are_accepted_as_earlier_readers_accept_them(
    codec: QueueCodec[Any], body: str, message: object
) -> None:
    assert codec.read(body) == message


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        '"tenant"',
        '{"tenant": "a"}',
        '{"tenant": "a", "prediction_id": 7}',
        '{"kind": 5, "tenant": "a", "prediction_id": "p"}',
        '{"kind": "validate", "tenant": "a", "batch_id": "b", "offset": 0, "line": 1}',
        '{"kind": "batch_chunk", "tenant": "a", "batch_id": "b", "chunk": -1, "first_line": 1, "start": 0, "end": 1}',
        '{"kind": "batch_chunk", "tenant": "a", "batch_id": "b", "chunk": true, "first_line": 1, "start": 0, "end": 1}',
        '{"kind": "batch_chunk", "tenant": "a", "batch_id": "b", "chunk": 1.0, "first_line": 1, "start": 0, "end": 1}',
        '{"kind": "batch_chunk", "tenant": "a", "batch_id": "b", "chunk": "1", "first_line": 1, "start": 0, "end": 1}',
        '{"kind": "batch_chunk", "tenant": "a"}',
        '{"kind": "other", "tenant": "a", "prediction_id": "p"}',
    ],
)
def test_a_malformed_predictions_queue_body_is_refused(body: str) -> None:
    with pytest.raises(MalformedMessageError):
        PREDICTIONS_QUEUE.read(body)


@pytest.mark.parametrize(
    "body",
    [
        "[]",
        '{"kind": "explode", "tenant": "a", "batch_id": "b", "offset": 0, "line": 1}',
        '{"kind": "validate"}',
        '{"kind": "validate", "tenant": "a", "batch_id": "b", "offset": -4, "line": 1}',
        '{"tenant": "a", "batch_id": "b", "offset": 0, "line": 1}',
    ],
)
def test_a_malformed_batch_step_is_refused(body: str) -> None:
    with pytest.raises(MalformedMessageError):
        BATCHES_QUEUE.read(body)


@pytest.mark.parametrize(
    "body",
    ["{}", '{"tenant": "a", "prediction_id": "p"}', '{"tenant": "a", "prediction_id": "p", "delivery_id": null}'],
)
def test_a_malformed_webhook_delivery_is_refused(body: str) -> None:
    with pytest.raises(MalformedMessageError):
        WEBHOOKS_QUEUE.read(body)


@pytest.mark.parametrize(
    ("codec", "body"),
    [
        (PREDICTIONS_QUEUE, '{"tenant": "sk_live_LEAK", "prediction": "sk_live_LEAK"}'),
        (PREDICTIONS_QUEUE, '["sk_live_LEAK"]'),
        (WEBHOOKS_QUEUE, '{"tenant": "sk_live_LEAK"}'),
        (BATCHES_QUEUE, '{"kind": "validate", "tenant": "sk_live_LEAK"}'),
    ],
)
def test_a_refused_body_does_not_reach_the_logs_through_the_error(codec: QueueCodec[Any], body: str) -> None:
    # Given a foreign body carrying something that must not be logged
    # When it is refused
    with pytest.raises(MalformedMessageError) as refused:
        codec.read(body)

    # Then neither the error nor its cause (both logged with the traceback) quote it
    assert "LEAK" not in str(refused.value)
    assert "LEAK" not in str(refused.value.__cause__)


def test_the_predictions_queue_refuses_a_batch_step_and_the_batches_queue_a_chunk() -> None:
    step = BATCHES_QUEUE.write(BatchStep(kind=BatchStepKind.FINALIZE, tenant="a", batch_id="b"))
    chunk = PREDICTIONS_QUEUE.write(RunBatchChunk(tenant="a", batch_id="b", chunk=0, first_line=1, start=0, end=1))

    with pytest.raises(MalformedMessageError):
        PREDICTIONS_QUEUE.read(step)
    with pytest.raises(MalformedMessageError):
        BATCHES_QUEUE.read(chunk)
