"""Status only moves forward; a change of a prediction or a batch has the one shape of the kernel."""

import itertools
from dataclasses import replace

import pytest

from shared.batches.models import ALLOWED_SOURCES as BATCH_SOURCES
from shared.batches.models import Batch, BatchStatus, BatchTransition, LineProblem, RequestCounts
from shared.kernel.transitions import StatusTransition
from shared.predictions.models import ALLOWED_SOURCES, TERMINAL_STATUSES, Prediction, PredictionStatus, Transition
from tests.support.resources import a_batch, a_prediction

AT = "2026-11-21T00:00:00.000Z"

FORWARD = {
    (PredictionStatus.STARTING, PredictionStatus.PROCESSING),
    (PredictionStatus.STARTING, PredictionStatus.CANCELED),
    (PredictionStatus.STARTING, PredictionStatus.FAILED),
    (PredictionStatus.PROCESSING, PredictionStatus.SUCCEEDED),
    (PredictionStatus.PROCESSING, PredictionStatus.FAILED),
    (PredictionStatus.PROCESSING, PredictionStatus.CANCELED),
}


@pytest.mark.parametrize(("source", "target"), list(itertools.product(PredictionStatus, PredictionStatus)))
def test_only_forward_transitions_are_allowed(source: PredictionStatus, target: PredictionStatus) -> None:
    allowed = source in ALLOWED_SOURCES.get(target, frozenset())

    assert allowed == ((source, target) in FORWARD)


def test_terminal_statuses_have_no_way_out() -> None:
    for sources in ALLOWED_SOURCES.values():
        assert not sources & TERMINAL_STATUSES


@pytest.mark.parametrize(("source", "target"), list(itertools.product(BatchStatus, BatchStatus)))
def test_a_batch_change_pinned_to_its_source_exists_only_for_allowed_moves(
    source: BatchStatus, target: BatchStatus
) -> None:
    if source in BATCH_SOURCES.get(target, frozenset()):
        assert BatchTransition(target, AT, expected=source).sources == {source}
    else:
        with pytest.raises(ValueError, match="never moves"):
            BatchTransition(target, AT, expected=source)


def test_a_batch_change_without_a_pin_may_be_written_from_every_allowed_source() -> None:
    assert BatchTransition(BatchStatus.CANCELING, AT).sources == {BatchStatus.VALIDATING, BatchStatus.IN_PROGRESS}


def test_a_batch_change_writes_its_fields_and_leaves_the_others() -> None:
    validating = a_batch()

    started = BatchTransition(BatchStatus.IN_PROGRESS, AT, total=7, chunks_total=2).apply(validating)

    assert started == replace(
        validating, status=BatchStatus.IN_PROGRESS, counts=RequestCounts(total=7), chunks_total=2, in_progress_at=AT
    )


@pytest.mark.parametrize(
    ("source", "target", "field"),
    [
        (BatchStatus.IN_PROGRESS, BatchStatus.FINALIZING, "finalizing_at"),
        (BatchStatus.IN_PROGRESS, BatchStatus.CANCELING, "cancelling_at"),
        (BatchStatus.VALIDATING, BatchStatus.CANCELING, "cancelling_at"),
    ],
)
def test_an_unfinished_batch_status_records_when_it_was_reached(
    source: BatchStatus, target: BatchStatus, field: str
) -> None:
    before = a_batch(status=source, in_progress_at="2026-11-20T23:00:00.000Z")

    after = BatchTransition(target, AT).apply(before)

    assert (after.status, getattr(after, field), after.completed_at) == (target, AT, None)
    others = {"in_progress_at", "finalizing_at", "cancelling_at"} - {field}
    assert {name: getattr(after, name) for name in others} == {name: getattr(before, name) for name in others}


def test_a_final_batch_change_sets_completed_at_and_its_files() -> None:
    running = a_batch(status=BatchStatus.FINALIZING, counts=RequestCounts(3, 2, 1), chunks_total=1)

    done = BatchTransition(BatchStatus.COMPLETED, AT, output_key="out", errors_key="err").apply(running)

    assert done == replace(running, status=BatchStatus.COMPLETED, completed_at=AT, output_key="out", errors_key="err")


def test_a_failed_batch_keeps_its_problems() -> None:
    problems = (LineProblem(0, "empty_file", "The file has no lines."),)

    failed = BatchTransition(BatchStatus.FAILED, AT, errors=problems).apply(a_batch())

    assert (failed.status, failed.errors, failed.completed_at) == (BatchStatus.FAILED, problems, AT)


def test_a_prediction_change_applies_as_it_did() -> None:
    processing = Transition(PredictionStatus.PROCESSING, AT).apply(a_prediction())

    done = Transition(PredictionStatus.SUCCEEDED, AT, output={"ok": 1}, predict_time=0.5).apply(processing)

    assert (processing.status, processing.started_at) == (PredictionStatus.PROCESSING, AT)
    assert (done.status, done.started_at, done.completed_at, done.output) == (
        PredictionStatus.SUCCEEDED,
        AT,
        AT,
        {"ok": 1},
    )


def _shapes() -> None:
    """Type-checked only: both changes have the one shape a store's ``transition`` takes."""
    prediction_change: StatusTransition[PredictionStatus, Prediction] = Transition(PredictionStatus.PROCESSING, AT)
    batch_change: StatusTransition[BatchStatus, Batch] = BatchTransition(BatchStatus.CANCELING, AT)
    del prediction_change, batch_change
