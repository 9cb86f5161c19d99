"""An in-memory fake for AWS that answers instantly: record one invocation on moto, replay it.

Warm benchmarks want to time our code, not moto's (an in-process moto ``GetItem`` costs about a
millisecond of Python). So a function serves its event once on moto while :func:`recording` keeps
every call's parsed answer, then :class:`Replay` answers the same calls, in the same order, straight
from memory — for the function and for the floor alike, so the AWS side costs the same in both.

The patch sits at botocore's ``BaseClient._make_api_call``: the client method call is real, request
serialisation, signing and HTTP are skipped. A replay checks each call's service and operation
against the recording and raises :class:`ReplayMismatchError` when code takes another path, so a
benchmark cannot silently measure something else.

Given a :class:`bench.latency.LatencyModel`, a replay holds each answer back by the delay the model
draws for its operation (``time.sleep``: the caller's thread is blocked, as on a socket), so AWS costs
what it would in the region; :func:`slowed` adds the same delays to calls that moto answers.
"""

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from bench.latency import LatencyModel


@dataclass(frozen=True)
class RecordedCall:
    service: str
    operation: str
    params: dict[str, Any]
    response: dict[str, Any] | None  # None when the call raised
    error: dict[str, Any] | None  # a ClientError's error response


class ReplayMismatchError(AssertionError):
    """The replayed code made a call the recording does not have at this point."""


_ORIGINAL: Callable[..., Any] = vars(BaseClient)["_make_api_call"]  # private and untyped: patched by name


@contextmanager
def _patched(replacement: Callable[[BaseClient, str, dict[str, Any]], Any]) -> Iterator[None]:
    setattr(BaseClient, "_make_api_call", replacement)  # noqa: B010
    try:
        yield
    finally:
        setattr(BaseClient, "_make_api_call", _ORIGINAL)  # noqa: B010


@contextmanager
def recording() -> Iterator[list[RecordedCall]]:
    """Every AWS call made while the block runs (on whatever answers them, e.g. moto), with its answer."""
    calls: list[RecordedCall] = []

    def record(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        service = client.meta.service_model.service_name
        kept = _replayable(params)
        try:
            response = _ORIGINAL(client, operation, params)
        except ClientError as error:
            calls.append(RecordedCall(service, operation, kept, None, dict(error.response)))
            raise
        calls.append(RecordedCall(service, operation, kept, response, None))
        return response

    with _patched(record):
        yield calls


def _replayable(params: dict[str, Any]) -> dict[str, Any]:
    """The call's parameters with a streamed body (an uploaded file) read into bytes: it can be sent again,
    and copied, where the stream is spent by the call."""

    def read(stream: Any) -> bytes:
        position = stream.tell()
        data: bytes = stream.read()
        stream.seek(position)
        return data

    return {name: read(value) if hasattr(value, "read") else value for name, value in params.items()}


class Replay:
    """Answers the recorded calls in order; :meth:`rewind` before each replayed invocation. With ``latency``,
    each answer comes after the delay the model draws for its operation.

    Calls made at once from several threads (the worker's, one per message) take the next answer each,
    under a lock: their order among themselves varies, so one may get another's answer of the same
    operation (the same shape of work, which is what is timed); their delays overlap, as in AWS."""

    def __init__(self, calls: list[RecordedCall], latency: LatencyModel | None = None) -> None:
        self._calls = calls
        self._next = 0
        self._latency = latency
        self._lock = threading.Lock()

    def rewind(self) -> None:
        if self._next != len(self._calls):
            raise ReplayMismatchError(f"made {self._next} of the {len(self._calls)} recorded calls")
        self._next = 0

    def answer(self, client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        with self._lock:
            if self._next >= len(self._calls):
                raise ReplayMismatchError(f"unrecorded extra call {operation}")
            call = self._calls[self._next]
            self._next += 1
            number = self._next
        if call.operation != operation or call.service != client.meta.service_model.service_name:
            raise ReplayMismatchError(f"call {number}: {operation}, recorded {call.service} {call.operation}")
        if self._latency is not None:
            self._latency.wait(call.service, operation)
        if call.error is not None:
            raise ClientError(call.error, operation)  # type: ignore[arg-type]
        return call.response

    @contextmanager
    def installed(self) -> Iterator["Replay"]:
        self._next = 0

        def answer(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
            return self.answer(client, operation, params)

        with _patched(answer):
            yield self


class AwsTime:
    """Seconds spent in AWS calls so far: answering them (e.g. moto), and held back by the latency model, both
    as drawn and as actually slept (a busy machine wakes a sleeper late)."""

    def __init__(self) -> None:
        self.answering = 0.0
        self.drawn = 0.0
        self.slept = 0.0
        self.in_calls = 0.0  # wall time with at least one call in flight (calls from threads overlap)
        self._in_flight = 0
        self._since = 0.0
        self._lock = threading.Lock()

    def began(self) -> None:
        with self._lock:
            if self._in_flight == 0:
                self._since = time.perf_counter()
            self._in_flight += 1

    def ended(self) -> None:
        with self._lock:
            self._in_flight -= 1
            if self._in_flight == 0:
                self.in_calls += time.perf_counter() - self._since

    def _overlap(self) -> float:
        """The share of the calls' summed time the caller waited (1 for calls made one after another)."""
        summed = self.answering + self.slept
        return min(1.0, self.in_calls / summed) if summed > 0 and self.in_calls > 0 else 1.0

    def without_delays(self, wall: float) -> float:
        """A wall time as it would have been with the calls answered and not held back."""
        return wall - self.slept * self._overlap()

    def with_model(self, wall: float) -> float:
        """A wall time as it would have been with each call taking exactly the model's delay (overlapping
        calls overlap their delays in the same proportion as they overlapped here)."""
        return wall - (self.answering + self.slept - self.drawn) * self._overlap()


@contextmanager
def slowed(latency: LatencyModel) -> Iterator[AwsTime]:
    """Each call answered by whatever is installed (moto, in-process) is then held back by the model's delay.

    The caller's wall time holds both; :class:`AwsTime` takes either out, scaled by how much the calls
    overlapped (the worker's, from several threads, wait together). Put around the other patches of
    ``_make_api_call``, or inside them: it restores what it found."""
    spent = AwsTime()
    previous: Callable[..., Any] = vars(BaseClient)["_make_api_call"]

    def slow(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        spent.began()
        began = time.perf_counter()
        try:
            return previous(client, operation, params)
        finally:
            answered = time.perf_counter()
            drawn = latency.wait(client.meta.service_model.service_name, operation)
            slept = time.perf_counter() - answered
            with spent._lock:
                spent.answering += answered - began
                spent.drawn += drawn
                spent.slept += slept
            spent.ended()

    setattr(BaseClient, "_make_api_call", slow)  # noqa: B010
    try:
        yield spent
    finally:
        setattr(BaseClient, "_make_api_call", previous)  # noqa: B010
