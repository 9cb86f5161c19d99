"""Status only moves forward."""

import itertools

import pytest

from shared.predictions.models import ALLOWED_SOURCES, TERMINAL_STATUSES, PredictionStatus

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
