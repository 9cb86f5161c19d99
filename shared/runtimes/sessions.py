"""onnxruntime sessions as every ONNX-backed runtime opens and runs them: CPU, one thread, a watchdog per run.

A run may be given a deadline: a watchdog thread sets ``RunOptions.terminate`` when it passes, and
onnxruntime stops the run between kernels (a ``Loop`` checks it on every iteration) and raises; the
session stays usable. A single kernel that runs long is not interrupted (the function's own timeout is
the last bound).
"""

import os
import threading
import time
from typing import Any

import onnxruntime as ort


class SessionUnusableError(Exception):
    """onnxruntime cannot load the model (the message is safe to show a user)."""


class RunTimedOutError(Exception):
    """The call's time budget was spent (the watchdog stopped the run, or nothing was left to start one)."""


def open_session(model: str | os.PathLike[str] | bytes) -> Any:
    """A CPU session over a model file or a model held in memory, single-threaded, quiet."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    source = model if isinstance(model, bytes) else os.fspath(model)
    try:
        return ort.InferenceSession(source, sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises plain Exception subclasses; their messages name the path
        raise SessionUnusableError("The file is not an ONNX model this runtime can load.") from error


def run_until(session: Any, feeds: dict[str, Any], deadline: float | None) -> Any:
    """``session.run`` of every output, stopped by a watchdog at ``deadline`` (``time.monotonic()``);
    raise ``RunTimedOutError`` when it was stopped or no time was left to start it."""
    if deadline is None:
        return session.run(None, feeds)
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise RunTimedOutError
    options = ort.RunOptions()
    fired = threading.Event()

    def stop() -> None:
        fired.set()
        options.terminate = True  # onnxruntime checks it between kernels and raises from run

    watchdog = threading.Timer(remaining, stop)
    watchdog.daemon = True
    watchdog.start()
    try:
        return session.run(None, feeds, options)
    except Exception:
        if fired.is_set():
            raise RunTimedOutError from None
        raise
    finally:
        watchdog.cancel()
