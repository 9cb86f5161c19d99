"""A chunk's lines run one at a time after a shared call ran out of time: progress kept, and bounded."""

from shared.batches.alone import MAX_ALONE_DELIVERIES, NOT_REACHED, AloneRuns
from shared.batches.lines import BatchLine
from shared.runtimes.base import FinalResult, ModelFailure, Unfinished, timed_out

LINES = [BatchLine(number, f"row-{number}", {"n": number}) for number in (3, 4, 5, 6)]
BAD = ModelFailure("invalid_input", "Line 4: /n: no")


def _alone(line: BatchLine) -> FinalResult:
    return timed_out(1) if line.number == 5 else {"n": line.number}


def test_the_shared_call_keeps_what_it_settled_and_only_the_unfinished_lines_run_alone() -> None:
    runs = AloneRuns.after_shared_call(LINES, [{"n": 3}, BAD, Unfinished(1), Unfinished(1)])
    ran: list[int] = []

    def alone(line: BatchLine) -> FinalResult:
        ran.append(line.number)
        return _alone(line)

    results = runs.run(LINES, alone, lambda: True)

    assert ran == [5, 6]
    assert results == [{"n": 3}, BAD, timed_out(1), {"n": 6}]


def test_progress_survives_a_delivery_without_time_and_the_next_one_carries_on() -> None:
    runs = AloneRuns.after_shared_call(LINES, [Unfinished(1)] * 4)
    room = iter([True, True, False])

    left = runs.run(LINES, _alone, lambda: next(room))
    saved = AloneRuns.from_bytes(runs.to_bytes())
    read_back = dict(saved.settled)
    results = saved.run(LINES, _alone, lambda: True)

    assert left is None
    assert read_back == {3: {"n": 3}, 4: {"n": 4}}  # what the first delivery settled
    assert results == [{"n": 3}, {"n": 4}, timed_out(1), {"n": 6}]


def test_after_the_last_delivery_allowed_the_lines_not_reached_fail_with_timeout() -> None:
    runs = AloneRuns.after_shared_call(LINES, [Unfinished(1)] * 4)
    outcomes = []
    for _ in range(MAX_ALONE_DELIVERIES):
        outcomes.append(runs.run(LINES, _alone, iter([True, False]).__next__))  # time for one line per delivery

    assert outcomes[:-1] == [None] * (MAX_ALONE_DELIVERIES - 1)
    assert outcomes[-1] == [{"n": 3}, {"n": 4}, timed_out(1), NOT_REACHED]
    assert NOT_REACHED.code == "timeout"
