"""A chunk whose model call ran out of time with several lines in it runs its unfinished lines one at a time.

The limit stopped lines that were running together, so it cannot say which of them was slow: each runs
again alone, in a call of its own with a whole limit, and only a line that times out alone fails with
``timeout``. The lines that finished in the shared call keep their results.

Progress is one object per chunk (``parts/<chunk>.alone.json``): the outcome of every line settled so far
and how many deliveries have worked on it. Any delivery of the chunk (a redelivery, a duplicate, the
sweeper's resume) finds it and carries on alone, never in a shared call again. A delivery runs lines while
the invocation has time for another whole call, then saves the object and hands its message back (visible
at once). Each such delivery settles at least one line, and after ``MAX_ALONE_DELIVERIES`` the lines
still not reached fail with ``timeout`` so the chunk ends before its message can reach the DLQ (five
receives): a file of many slow lines costs a bounded number of deliveries, not an endless bounce.
"""

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.batches.codecs import UNRUN_MESSAGES
from shared.batches.lines import BatchLine
from shared.batches.models import ChunkOutcome
from shared.runtimes.base import TIMEOUT, FinalResult, ModelFailure, RuntimeResult, Unfinished

MAX_ALONE_DELIVERIES = 3
NOT_REACHED = ModelFailure(TIMEOUT, UNRUN_MESSAGES[ChunkOutcome.TIMED_OUT])


@dataclass
class AloneRuns:
    """A chunk's lines settled so far, by line number, and the deliveries that ran lines alone."""

    settled: dict[int, FinalResult] = field(default_factory=dict)
    deliveries: int = 0

    @classmethod
    def after_shared_call(cls, lines: Sequence[BatchLine], results: Sequence[RuntimeResult]) -> "AloneRuns":
        """What the shared call settled: every line but the ``Unfinished`` ones."""
        return cls({line.number: r for line, r in zip(lines, results, strict=True) if not isinstance(r, Unfinished)})

    def run(
        self, lines: Sequence[BatchLine], run_alone: Callable[[BatchLine], FinalResult], has_time: Callable[[], bool]
    ) -> list[FinalResult] | None:
        """Run the lines not settled, one call each, while ``has_time()``. Every line's result in order when
        all are settled (or this was the last delivery allowed); None when lines are left for another."""
        self.deliveries += 1
        for line in lines:
            if line.number not in self.settled:
                if not has_time():
                    break
                self.settled[line.number] = run_alone(line)
        else:
            return [self.settled[line.number] for line in lines]
        if self.deliveries < MAX_ALONE_DELIVERIES:
            return None
        return [self.settled.get(line.number, NOT_REACHED) for line in lines]

    def to_bytes(self) -> bytes:
        rows = {str(number): _row(result) for number, result in self.settled.items()}
        return json.dumps({"deliveries": self.deliveries, "settled": rows}, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> "AloneRuns":
        saved: Any = json.loads(data)
        settled = {int(number): _result(row) for number, row in saved["settled"].items()}
        return cls(settled, int(saved["deliveries"]))


def _row(result: FinalResult) -> dict[str, Any]:
    if isinstance(result, ModelFailure):
        return {"error": {"code": result.code, "message": result.message}}
    return {"output": result}


def _result(row: dict[str, Any]) -> FinalResult:
    if "error" in row:
        return ModelFailure(str(row["error"]["code"]), str(row["error"]["message"]))
    output: dict[str, Any] = row["output"]
    return output
