"""Batch queue messages and the validation state: they round-trip, and anything else is refused."""

import pytest

from shared.batches.chunks import Chunk
from shared.batches.models import LineProblem, problem_list
from shared.batches.validation import ValidationState
from shared.kernel.messages import (
    BatchStep,
    BatchStepKind,
    MalformedMessageError,
    RunBatchChunk,
    RunPrediction,
    predictions_queue_message,
)


def test_messages_round_trip_and_the_predictions_queue_tells_its_two_kinds_apart() -> None:
    chunk = RunBatchChunk("acme", "bat_1", 3, 301, 1200, 2400)
    step = BatchStep(BatchStepKind.VALIDATE, "acme", "bat_1", 4096, 77)

    assert predictions_queue_message(chunk.to_body()) == chunk
    assert predictions_queue_message(RunPrediction("acme", "pred_1").to_body()) == RunPrediction("acme", "pred_1")
    assert BatchStep.from_body(step.to_body()) == step
    assert BatchStep.from_body(BatchStep(BatchStepKind.FINALIZE, "acme", "bat_1").to_body()).offset == 0


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        '{"kind": "batch_chunk", "tenant": "a", "batch_id": "b", "chunk": -1, "first_line": 1, "start": 0, "end": 1}',
        '{"kind": "batch_chunk", "tenant": "a", "batch_id": "b", "chunk": true, "first_line": 1, "start": 0, "end": 1}',
        '{"kind": "batch_chunk", "tenant": "a"}',
    ],
)
def test_a_malformed_chunk_message_is_refused(body: str) -> None:
    with pytest.raises(MalformedMessageError):
        predictions_queue_message(body)


@pytest.mark.parametrize(
    "body",
    ["[]", '{"kind": "explode", "tenant": "a", "batch_id": "b", "offset": 0, "line": 1}', '{"kind": "validate"}'],
)
def test_a_malformed_batch_step_is_refused(body: str) -> None:
    with pytest.raises(MalformedMessageError):
        BatchStep.from_body(body)


def test_a_chunk_body_of_another_kind_is_refused() -> None:
    with pytest.raises(MalformedMessageError):
        RunBatchChunk.from_body('{"kind": "other", "tenant": "a"}')


def test_the_validation_state_round_trips() -> None:
    state = ValidationState(
        step_start=10,
        offset=20,
        line=3,
        lines=2,
        digests={b"12345678", b"abcdefgh"},
        chunks=[Chunk(0, 1, 0, 20, 2)],
        problems=[LineProblem(2, "invalid_json", "The line is not valid UTF-8 JSON.")],
        more_problems=4,
        finished=True,
    )

    assert ValidationState.from_bytes(state.to_bytes()) == state


def test_a_long_problem_list_ends_with_how_many_more_there_were() -> None:
    problems = problem_list([LineProblem(1, "invalid_json", "x")], 41)

    assert problems[-1] == LineProblem(0, "more_errors", "41 more problems are not listed.")
    assert problem_list([], 0) == ()
