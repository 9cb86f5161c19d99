"""Overlapping the independent waits of one invocation on a small, bounded pool of threads.

A queue worker's invocation handles up to ten messages, and most of each message's time is spent
waiting on AWS (a read, a conditional write, a hand-off to another queue). ``TaskPool.map`` runs one
task per message at once and answers each task's result, or the exception it raised, in order: one
message's fault stays its own and never stops the others.

Each task runs in a copy of its submitter's context (``contextvars``): the invocation's log keys
(function, request id, cold start) go with it, and so does, in the local stack, the function's IAM
role. The task's own correlation id is set on that copy only, so its lines name its message, the
submitter's keys are untouched, and a pool thread keeps nothing of one task for the next. Never a bare
``threading.Thread``: it starts from an empty context.

A single task runs in the caller's thread (in a copy of its context too): one message pays no thread hop.
"""

import contextvars
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

from shared.kernel import tracing
from shared.kernel.observability import set_correlation_id

T = TypeVar("T")
R = TypeVar("R")


class Pending(Generic[R]):
    """Tasks under way; :meth:`results` waits for all of them."""

    def __init__(self, futures: Sequence["Future[R | Exception]"], done: Sequence[R | Exception] = ()) -> None:
        self._futures = futures
        self._done = done

    def results(self) -> list[R | Exception]:
        """Each task's result or exception, in the order the items were given."""
        return [*self._done, *(future.result() for future in self._futures)]


class TaskPool:
    """At most ``workers`` tasks at once; the threads are started on first use and reused afterwards."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError("a task pool needs at least one worker")
        self._workers = workers
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def map(
        self, work: Callable[[T], R], items: Sequence[T], correlation_ids: Sequence[str | None]
    ) -> list[R | Exception]:
        """``work`` on every item at once, each under its own correlation id; waits for all."""
        return self.start(work, items, correlation_ids).results()

    def start(self, work: Callable[[T], R], items: Sequence[T], correlation_ids: Sequence[str | None]) -> Pending[R]:
        """Like :meth:`map`, without waiting: the caller goes on and collects the results later."""
        if len(items) != len(correlation_ids):
            raise ValueError("one correlation id per item")

        def task(item: T, correlation_id: str | None) -> R | Exception:
            set_correlation_id(correlation_id)  # on this task's copy of the context only
            try:
                with tracing.resumed(correlation_id):  # its message's span, when tracing is on
                    return work(item)
            except Exception as exc:  # noqa: BLE001 - the item's own fault, answered for it alone
                return exc

        if len(items) <= 1 or self._workers == 1:
            pairs = zip(items, correlation_ids, strict=True)
            return Pending([], [contextvars.copy_context().run(task, item, cid) for item, cid in pairs])
        executor = self._pool()
        futures = [
            executor.submit(contextvars.copy_context().run, task, item, correlation_id)
            for item, correlation_id in zip(items, correlation_ids, strict=True)
        ]
        return Pending(futures)

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="task")
            return self._executor
