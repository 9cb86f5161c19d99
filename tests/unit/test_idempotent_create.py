"""The create step predictions and batches share (``shared.kernel.creation``), on a resource of its own."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from shared.kernel.clock import to_rfc3339
from shared.kernel.creation import Created, CreateStore, create_idempotently
from shared.kernel.errors import TransientError
from shared.kernel.idempotency import IdempotencyClaim, IdempotencyConflictError, IdempotentReplayError
from shared.kernel.webhook_urls import DestinationRefusedError


@dataclass(frozen=True)
class Thing:
    id: str
    tenant: str
    created_at: str
    failed: bool = False


class Things:
    """A store of things and their claims, as the DynamoDB stores behave (the claim in the same write)."""

    def __init__(self) -> None:
        self.items: dict[str, Thing] = {}
        self.claims: dict[str, IdempotencyClaim] = {}
        self.claim_holders: dict[str, str] = {}
        self.resent = False  # the next create is the SDK resending a write that already succeeded

    def create(self, thing: Thing, claim: IdempotencyClaim | None = None) -> None:
        if self.resent:
            self.items[thing.id] = thing
            assert claim is not None
            raise IdempotentReplayError(thing.id, claim.fingerprint)
        if claim is not None and claim.key_hash in self.claims:
            held = self.claims[claim.key_hash]
            raise IdempotentReplayError(self.claim_holders[claim.key_hash], held.fingerprint)
        self.items[thing.id] = thing
        if claim is not None:
            self.claims[claim.key_hash] = claim
            self.claim_holders[claim.key_hash] = thing.id

    def release(self, thing: Thing, claim: IdempotencyClaim) -> None:
        if self.claim_holders.get(claim.key_hash) == thing.id:
            del self.claims[claim.key_hash], self.claim_holders[claim.key_hash]

    def get(self, tenant: str, thing_id: str) -> Thing:
        thing = self.items[thing_id]
        assert thing.tenant == tenant
        return thing


class Steps:
    """The queue and the failure mark of the resource, recording what happened."""

    def __init__(self, store: Things, queue_down: bool = False, fail_breaks: bool = False) -> None:
        self.store = store
        self.queued: list[str] = []
        self.failed: list[str] = []
        self.queue_down = queue_down
        self.fail_breaks = fail_breaks
        self.built: list[datetime] = []
        self._count = 0

    def build(self, now: datetime) -> Thing:
        self._count += 1
        self.built.append(now)
        return Thing(id=f"thing_{self._count}", tenant="acme", created_at=to_rfc3339(now))

    def enqueue(self, thing: Thing) -> None:
        if self.queue_down:
            raise TransientError("queue down")
        self.queued.append(thing.id)

    def fail(self, thing: Thing) -> None:
        if self.fail_breaks:
            raise TransientError("table down too")
        self.failed.append(thing.id)
        self.store.items[thing.id] = Thing(thing.id, thing.tenant, thing.created_at, failed=True)


def _create(
    steps: Steps,
    key: str | None = None,
    fingerprint: dict[str, Any] | None = None,
    webhook: str | None = None,
) -> Created[Thing]:
    return create_idempotently(
        steps.store,
        steps.build,
        fingerprint=fingerprint if fingerprint is not None else {"body": 1},
        idempotency_key=key,
        webhook=webhook,
        allow_insecure_webhooks=False,
        enqueue=steps.enqueue,
        fail_unqueued=steps.fail,
    )


def test_a_create_stores_and_queues_the_resource_it_built() -> None:
    steps = Steps(Things())

    created = _create(steps)

    assert created == Created(steps.store.items["thing_1"], replayed=False)
    assert steps.queued == ["thing_1"]
    assert steps.store.claims == {}


def test_the_claim_is_taken_at_the_moment_the_resource_was_built() -> None:
    steps = Steps(Things())

    _create(steps, key="k-1")

    [claim] = steps.store.claims.values()
    [moment] = steps.built
    assert claim.expires_at == int((moment + timedelta(hours=24)).timestamp())


def test_the_same_key_and_request_answer_the_original_and_queue_nothing_more() -> None:
    steps = Steps(Things())
    first = _create(steps, key="k-1", fingerprint={"body": 1})

    again = _create(steps, key="k-1", fingerprint={"body": 1})

    assert again == Created(first.resource, replayed=True)
    assert steps.queued == ["thing_1"]
    assert list(steps.store.items) == ["thing_1"]  # the second build was never stored


def test_the_same_key_with_another_request_is_a_conflict_and_changes_nothing() -> None:
    steps = Steps(Things())
    _create(steps, key="k-1", fingerprint={"body": 1})

    with pytest.raises(IdempotencyConflictError):
        _create(steps, key="k-1", fingerprint={"body": 2})

    assert steps.queued == ["thing_1"]
    assert list(steps.store.items) == ["thing_1"]


def test_another_key_creates_another_resource() -> None:
    steps = Steps(Things())
    _create(steps, key="k-1")

    created = _create(steps, key="k-2")

    assert (created.resource.id, created.replayed) == ("thing_2", False)
    assert steps.queued == ["thing_1", "thing_2"]


def test_its_own_write_resent_by_the_sdk_is_queued_as_a_new_resource() -> None:
    store = Things()
    store.resent = True
    steps = Steps(store)

    created = _create(steps, key="k-1")

    assert created == Created(store.items["thing_1"], replayed=False)
    assert steps.queued == ["thing_1"]


def test_a_resource_the_queue_refuses_is_failed_and_the_fault_reaches_the_caller() -> None:
    steps = Steps(Things(), queue_down=True)

    with pytest.raises(TransientError, match="queue down"):
        _create(steps)

    assert steps.failed == ["thing_1"]
    assert steps.store.items["thing_1"].failed


def test_a_key_whose_resource_the_queue_refused_creates_anew_on_retry() -> None:
    steps = Steps(Things(), queue_down=True)
    with pytest.raises(TransientError):
        _create(steps, key="k-1")
    steps.queue_down = False

    retried = _create(steps, key="k-1")

    assert (retried.resource.id, retried.replayed) == ("thing_2", False)
    assert steps.queued == ["thing_2"]
    assert steps.store.items["thing_1"].failed  # the first stays failed, for the record
    assert _create(steps, key="k-1").resource.id == "thing_2"  # and the key now replays the second


def test_when_failing_it_fails_too_the_queue_fault_is_what_the_caller_gets() -> None:
    steps = Steps(Things(), queue_down=True, fail_breaks=True)

    with pytest.raises(TransientError, match="queue down"):
        _create(steps)

    assert steps.failed == []


def test_a_refused_webhook_url_stores_and_queues_nothing() -> None:
    steps = Steps(Things())

    with pytest.raises(DestinationRefusedError):
        _create(steps, key="k-1", webhook="http://169.254.169.254/latest")

    assert (steps.built, steps.store.items, steps.store.claims, steps.queued) == ([], {}, {}, [])


def test_an_acceptable_webhook_url_is_created_as_usual() -> None:
    steps = Steps(Things())

    assert not _create(steps, webhook="https://example.com/hook").replayed
    assert steps.queued == ["thing_1"]


def _conforms() -> None:
    """Type-checked only: the fake store is a ``CreateStore`` like the prediction and batch stores."""
    store: CreateStore[Thing] = Things()
    del store
