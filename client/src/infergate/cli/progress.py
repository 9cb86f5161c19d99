"""A batch's progress on stderr: a redrawn bar on a terminal, a plain line now and then otherwise."""

import time
from collections.abc import Callable
from typing import Any, TextIO

from infergate.cli.output import to_data

BAR_WIDTH = 30


class BatchProgress:
    """Called with each batch the wait sees (``on_progress``); ``finish`` ends the bar's line."""

    def __init__(
        self,
        stream: TextIO,
        *,
        tty: bool | None = None,
        interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self.interval = interval
        self.clock = clock
        self._last_line: tuple[str, int, int, int] | None = None
        self._last_at = 0.0
        self._drawn = False

    def __call__(self, batch: Any) -> None:
        data = to_data(batch)
        counts = data.get("request_counts") or {}
        total, completed, failed = (int(counts.get(k) or 0) for k in ("total", "completed", "failed"))
        status = str(data.get("status", "?"))
        if self.tty:
            self._draw(status, total, completed + failed, failed)
            return
        state = (status, total, completed, failed)
        now = self.clock()
        # A new status is always shown; new counts at most every `interval` seconds.
        if (
            self._last_line is None
            or status != self._last_line[0]
            or (state != self._last_line and now - self._last_at >= self.interval)
        ):
            self.stream.write(f"batch {data.get('id', '?')}: {status}, {completed + failed}/{total} lines done")
            self.stream.write(f" ({failed} failed)\n" if failed else "\n")
            self.stream.flush()
            self._last_line, self._last_at = state, now

    def _draw(self, status: str, total: int, done: int, failed: int) -> None:
        filled = BAR_WIDTH * done // total if total else 0
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        tail = f" ({failed} failed)" if failed else ""
        self.stream.write(f"\r[{bar}] {done}/{total} lines {status}{tail}\x1b[K")
        self.stream.flush()
        self._drawn = True

    def finish(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
