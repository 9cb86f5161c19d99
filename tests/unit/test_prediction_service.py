"""PredictionService against in-memory fakes: validation, queueing, cancel, list, wait."""

from datetime import timedelta

import pytest

from shared.kernel.errors import TransientError
from shared.kernel.idempotency import IdempotencyConflictError
from shared.kernel.pagination import CursorCodec, InvalidCursorError
from shared.predictions.models import InputTooLargeError, PredictionNotFoundError, PredictionStatus, Transition
from shared.predictions.service import NewPrediction, PredictionService
from shared.predictions.transitions import Transitions
from shared.registry.models import InvalidModelInputError, InvalidModelRefError, UnknownModelError
from shared.registry.service import ModelRegistry
from tests.support.fakes import InMemoryModelStore, InMemoryPredictionStore, InMemoryPublisher, InMemoryQueue


@pytest.fixture
def store() -> InMemoryPredictionStore:
    return InMemoryPredictionStore()


@pytest.fixture
def queue() -> InMemoryQueue:
    return InMemoryQueue()


@pytest.fixture
def service(store: InMemoryPredictionStore, queue: InMemoryQueue) -> PredictionService:
    transitions = Transitions(store, InMemoryPublisher())
    return PredictionService(
        store,
        transitions,
        queue,
        ModelRegistry(InMemoryModelStore()),
        CursorCodec(lambda: b"k" * 32),
        timedelta(days=7),
    )


def test_create_stores_a_starting_prediction_and_queues_it_with_the_correlation_id(
    service: PredictionService, store: InMemoryPredictionStore, queue: InMemoryQueue
) -> None:
    prediction = service.create("acme", NewPrediction("sentiment", {"text": "great"}), "req-1")

    assert prediction.status is PredictionStatus.STARTING
    assert (prediction.model, prediction.version) == ("sentiment", 1)
    assert store.get("acme", prediction.id) == prediction
    assert queue.messages == [("acme", prediction.id, "req-1")]


def test_create_sets_expiry_from_the_retention(service: PredictionService) -> None:
    prediction = service.create("acme", NewPrediction("echo", {}), None)

    from shared.kernel.clock import from_rfc3339

    created = from_rfc3339(prediction.created_at).timestamp()
    assert prediction.expires_at - created == pytest.approx(7 * 24 * 3600, abs=2)


def test_pinned_version_resolves(service: PredictionService) -> None:
    assert service.create("acme", NewPrediction("echo:1", {"x": 1}), None).version == 1


@pytest.mark.parametrize("ref", ["nope", "echo:2"])
def test_unknown_model_or_version_is_an_invalid_request_naming_it(
    service: PredictionService, store: InMemoryPredictionStore, queue: InMemoryQueue, ref: str
) -> None:
    with pytest.raises(UnknownModelError) as raised:
        service.create("acme", NewPrediction(ref, {}), None)

    assert ref.split(":")[0] in str(raised.value)
    assert raised.value.errors[0].pointer == "/model"
    assert store.items == {}
    assert queue.messages == []


@pytest.mark.parametrize("ref", ["", "Echo", "echo:0", "echo:x", "echo:1:2", "a b"])
def test_malformed_model_reference_is_refused(service: PredictionService, ref: str) -> None:
    with pytest.raises(InvalidModelRefError):
        service.create("acme", NewPrediction(ref, {}), None)


def test_input_failing_the_schema_is_refused_before_anything_is_stored(
    service: PredictionService, store: InMemoryPredictionStore, queue: InMemoryQueue
) -> None:
    with pytest.raises(InvalidModelInputError) as raised:
        service.create("acme", NewPrediction("sentiment", {"text": 42}), None)

    assert [(e.pointer, e.detail) for e in raised.value.errors] == [("/input/text", "must be of type string")]
    assert store.items == {}
    assert queue.messages == []


def test_input_over_256_kib_is_too_large(service: PredictionService, store: InMemoryPredictionStore) -> None:
    with pytest.raises(InputTooLargeError):
        service.create("acme", NewPrediction("echo", {"blob": "x" * (256 * 1024)}), None)

    assert store.items == {}


def test_input_just_under_the_limit_is_accepted(service: PredictionService) -> None:
    payload = {"blob": "x" * (256 * 1024 - len('{"blob":""}'))}

    assert service.create("acme", NewPrediction("echo", payload), None).status is PredictionStatus.STARTING


def test_a_prediction_that_cannot_be_queued_is_failed_not_left_starting(store: InMemoryPredictionStore) -> None:
    transitions = Transitions(store, InMemoryPublisher())
    broken = PredictionService(
        store,
        transitions,
        InMemoryQueue(fail=True),
        ModelRegistry(InMemoryModelStore()),
        CursorCodec(lambda: b"k"),
        timedelta(days=1),
    )

    with pytest.raises(TransientError):
        broken.create("acme", NewPrediction("echo", {}), None)

    [stored] = store.items.values()
    assert stored.status is PredictionStatus.FAILED
    assert stored.error is not None
    assert stored.error.code == "queue_unavailable"


def test_cancel_moves_a_starting_prediction_to_canceled(service: PredictionService) -> None:
    created = service.create("acme", NewPrediction("echo", {}), None)

    canceled = service.cancel("acme", created.id)

    assert canceled.status is PredictionStatus.CANCELED
    assert canceled.completed_at is not None


def test_cancel_returns_a_finished_prediction_unchanged(
    service: PredictionService, store: InMemoryPredictionStore
) -> None:
    created = service.create("acme", NewPrediction("echo", {}), None)
    store.transition(store.get("acme", created.id), Transition(PredictionStatus.PROCESSING, "2026-11-21T00:00:00.000Z"))
    done = store.transition(
        store.get("acme", created.id), Transition(PredictionStatus.SUCCEEDED, "2026-11-21T00:00:01.000Z", output={})
    )

    assert service.cancel("acme", created.id) == done


def test_another_tenants_prediction_is_not_found(service: PredictionService) -> None:
    created = service.create("acme", NewPrediction("echo", {}), None)

    with pytest.raises(PredictionNotFoundError):
        service.get("globex", created.id)
    with pytest.raises(PredictionNotFoundError):
        service.cancel("globex", created.id)


@pytest.mark.parametrize("bad_id", ["", "pred_", "pred_short", "key_01JD5YB4W3ZV0B4S8FZ7Q6N9XK", "../etc/passwd"])
def test_malformed_ids_are_not_found(service: PredictionService, bad_id: str) -> None:
    with pytest.raises(PredictionNotFoundError):
        service.get("acme", bad_id)


def test_list_pages_newest_first_without_gaps_or_repeats(service: PredictionService) -> None:
    created = [service.create("acme", NewPrediction("echo", {"i": i}), None).id for i in range(7)]
    service.create("globex", NewPrediction("echo", {}), None)

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = service.list("acme", 3, cursor)
        seen += [p.id for p in page.items]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break

    assert seen == sorted(created, reverse=True)
    assert pages == 3


def test_a_cursor_from_another_tenant_is_refused(service: PredictionService) -> None:
    for _ in range(3):
        service.create("acme", NewPrediction("echo", {}), None)
    cursor = service.list("acme", 1, None).next_cursor
    assert cursor is not None

    with pytest.raises(InvalidCursorError):
        service.list("globex", 1, cursor)


def test_wait_returns_as_soon_as_the_prediction_is_terminal(
    service: PredictionService, store: InMemoryPredictionStore
) -> None:
    created = service.create("acme", NewPrediction("echo", {}), None)
    clock = [0.0]
    polls = [0]

    def sleep(seconds: float) -> None:
        clock[0] += seconds
        polls[0] += 1
        if polls[0] == 3:
            store.transition(
                store.get("acme", created.id), Transition(PredictionStatus.CANCELED, "2026-11-21T00:00:00.000Z")
            )

    result = service.wait(created, 10, 0.25, sleep=sleep, monotonic=lambda: clock[0])

    assert result.status is PredictionStatus.CANCELED
    assert polls[0] == 3


def test_wait_gives_up_at_the_deadline_and_returns_the_current_state(service: PredictionService) -> None:
    created = service.create("acme", NewPrediction("echo", {}), None)
    clock = [0.0]

    def sleep(seconds: float) -> None:
        clock[0] += seconds

    result = service.wait(created, 2, 0.25, sleep=sleep, monotonic=lambda: clock[0])

    assert result.status is PredictionStatus.STARTING
    assert clock[0] == pytest.approx(2.0)


def test_the_same_idempotency_key_and_request_return_the_first_prediction(
    service: PredictionService, store: InMemoryPredictionStore, queue: InMemoryQueue
) -> None:
    first = service.create("acme", NewPrediction("echo", {"a": 1}), None, idempotency_key="order-42")
    again = service.create("acme", NewPrediction("echo", {"a": 1}), None, idempotency_key="order-42")

    assert again == first
    assert len(store.items) == 1
    assert len(queue.messages) == 1


def test_the_same_idempotency_key_with_another_request_is_a_conflict(
    service: PredictionService, store: InMemoryPredictionStore
) -> None:
    service.create("acme", NewPrediction("echo", {"a": 1}), None, idempotency_key="order-42")

    with pytest.raises(IdempotencyConflictError):
        service.create("acme", NewPrediction("echo", {"a": 2}), None, idempotency_key="order-42")
    assert len(store.items) == 1


def test_idempotency_keys_are_per_tenant(service: PredictionService) -> None:
    mine = service.create("acme", NewPrediction("echo", {}), None, idempotency_key="k")
    theirs = service.create("globex", NewPrediction("echo", {}), None, idempotency_key="k")

    assert mine.id != theirs.id
