"""SnapStart hooks: registered with Lambda's runtime module when it exists, and what they do."""

import random
import sys
from collections.abc import Callable, Iterator
from types import ModuleType

import pytest

from shared import snapstart, wiring
from shared.adapters import clients


class FakeSnapshotRuntime(ModuleType):
    def __init__(self) -> None:
        super().__init__("snapshot_restore_py")
        self.before: list[Callable[[], None]] = []
        self.after: list[Callable[[], None]] = []

    def register_before_snapshot(self, hook: Callable[[], None]) -> None:
        self.before.append(hook)

    def register_after_restore(self, hook: Callable[[], None]) -> None:
        self.after.append(hook)


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSnapshotRuntime]:
    fake = FakeSnapshotRuntime()
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", fake)
    yield fake
    wiring.reset()


def test_nothing_registers_outside_lambda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # import fails, as off Lambda
    assert snapstart.register() is False


def test_hooks_register_with_the_runtime(runtime: FakeSnapshotRuntime) -> None:
    assert snapstart.register() is True
    assert runtime.before == [snapstart.prime]
    assert runtime.after == [snapstart.refresh]


@pytest.mark.usefixtures("stack")
def test_prime_creates_the_clients_restore_replaces_them(runtime: FakeSnapshotRuntime) -> None:
    wiring.reset()
    snapstart.prime()
    snapshotted = (clients.dynamodb_client(), clients.sqs_client(), clients.s3_client())
    primed_keys = wiring.key_service()
    snapstart.refresh()
    restored = (clients.dynamodb_client(), clients.sqs_client(), clients.s3_client())
    assert all(new is not old for new, old in zip(restored, snapshotted, strict=True))
    assert wiring.key_service() is not primed_keys  # services holding the old clients are rebuilt


def test_restore_reseeds_random(runtime: FakeSnapshotRuntime) -> None:
    random.seed(7)  # every container restored from one snapshot starts from the same state
    snapshot_state = random.getstate()
    snapstart.refresh()
    assert random.getstate() != snapshot_state
