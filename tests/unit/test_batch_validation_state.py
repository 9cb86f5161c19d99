"""The validation state of a batch round-trips; a long problem list says how many more there were.

(The batch queue messages are tested with the other queue messages in ``test_queue_messages.py``.)"""

from shared.batches.chunks import Chunk
from shared.batches.models import LineProblem, problem_list
from shared.batches.validation import ValidationState


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
