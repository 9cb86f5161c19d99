"""The client's unit tests never sleep: the drivers' sleeps are recorded and move a fake clock instead."""

import asyncio
from types import SimpleNamespace

import pytest
from infergate import _drivers, _flow


class Naps(list[float]):
    """Every sleep the client asked for, in seconds; their sum is how far the fake clock moved."""

    def clock(self) -> float:
        return 1000.0 + sum(self)


@pytest.fixture(autouse=True)
def slept(monkeypatch: pytest.MonkeyPatch) -> Naps:
    naps = Naps()

    async def asleep(seconds: float) -> None:
        naps.append(seconds)

    monkeypatch.setattr(_drivers, "time", SimpleNamespace(sleep=naps.append))
    monkeypatch.setattr(_drivers, "asyncio", SimpleNamespace(sleep=asleep, to_thread=asyncio.to_thread))
    monkeypatch.setattr(_flow, "time", SimpleNamespace(monotonic=naps.clock))
    return naps
