"""A generous "does not hang" bound for work that, broken, would run for minutes (never a speed test)."""

import threading
import time
from collections.abc import Callable
from typing import Any


def finishes_within(seconds: float, *calls: Callable[[], Any]) -> list[Any]:
    """The results of ``calls``, run one after another in a daemon thread; fail if they are not all done
    within ``seconds`` (the thread is left behind, and dies with the test process).

    Code that holds the GIL (Python's ``re`` matching) keeps this thread from waking on time, so the
    time taken is checked too: a run that finished late still fails."""
    results: list[Any] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            results.extend(call() for call in calls)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            failure.append(exc)

    began = time.monotonic()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive() or time.monotonic() - began > seconds:
        raise AssertionError(f"not done within {seconds} s")
    if failure:
        raise failure[0]
    return results
