"""In-memory implementations of the domain ports. Typed against the Protocols so they cannot drift.

The prediction store's writes are atomic, as DynamoDB's conditional writes are: the worker makes them
from several threads at once.
"""

import threading

from shared.kernel.errors import TransientError
from shared.kernel.idempotency import IdempotencyClaim, IdempotentReplayError
from shared.kernel.outbox import DeliveryPublisher, PlannedDelivery
from shared.keys.models import ApiKey, KeyLimitReachedError, KeyNotFoundError
from shared.keys.ports import KeyStore
from shared.predictions.models import Prediction, PredictionNotFoundError, Transition, TransitionRejectedError
from shared.predictions.ports import PredictionQueue, PredictionStore
from shared.registry.models import Model, ModelVersion, NewVersion
from shared.registry.ports import ModelStore


class InMemoryPredictionStore:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Prediction] = {}
        self.deliveries: list[tuple[str, PlannedDelivery]] = []  # the outbox, written with transitions
        self.claims: dict[tuple[str, str], tuple[str, str]] = {}  # (tenant, key hash) -> (prediction, fingerprint)
        self.writes = 0
        self._lock = threading.RLock()

    def create(self, prediction: Prediction, claim: IdempotencyClaim | None = None) -> None:
        with self._lock:
            self._create(prediction, claim)

    def _create(self, prediction: Prediction, claim: IdempotencyClaim | None) -> None:
        key = (prediction.tenant, prediction.id)
        assert key not in self.items
        if claim is not None:
            held = self.claims.get((prediction.tenant, claim.key_hash))
            if held is not None:
                raise IdempotentReplayError(*held)
            self.claims[(prediction.tenant, claim.key_hash)] = (prediction.id, claim.fingerprint)
        self.items[key] = prediction
        self.writes += 1

    def release(self, prediction: Prediction, claim: IdempotencyClaim) -> None:
        if self.claims.get((prediction.tenant, claim.key_hash), ("",))[0] == prediction.id:
            del self.claims[(prediction.tenant, claim.key_hash)]

    def get(self, tenant: str, prediction_id: str) -> Prediction:
        return self._stored(tenant, prediction_id)

    def _stored(self, tenant: str, prediction_id: str) -> Prediction:
        try:
            return self.items[(tenant, prediction_id)]
        except KeyError:
            raise PredictionNotFoundError(prediction_id) from None

    def list(self, tenant: str, limit: int, after: str | None) -> tuple[list[Prediction], str | None]:
        ids = sorted((pid for t, pid in self.items if t == tenant), reverse=True)
        if after is not None:
            ids = [pid for pid in ids if pid < after]
        page = ids[:limit]
        more = len(ids) > limit
        return [self.items[(tenant, pid)] for pid in page], page[-1] if more else None

    def transition(self, prediction: Prediction, transition: Transition) -> Prediction:
        with self._lock:
            return self._transition(prediction, transition)

    def _transition(self, prediction: Prediction, transition: Transition) -> Prediction:
        current = self._stored(prediction.tenant, prediction.id)
        if current.status not in transition.sources:
            raise TransitionRejectedError(current)
        updated = transition.apply(current)
        self.items[(prediction.tenant, prediction.id)] = updated
        self.deliveries += [(prediction.id, delivery) for delivery in transition.deliveries]
        self.writes += 1
        return updated


class InMemoryQueue:
    def __init__(self, fail: bool = False) -> None:
        self.messages: list[tuple[str, str, str | None]] = []
        self.fail = fail

    def enqueue(self, tenant: str, prediction_id: str, correlation_id: str | None) -> None:
        if self.fail:
            raise TransientError("queue down")
        self.messages.append((tenant, prediction_id, correlation_id))


class InMemoryPublisher:
    def __init__(self, fail: bool = False) -> None:
        self.published: list[tuple[str, str, PlannedDelivery]] = []
        self.fail = fail

    def publish(self, tenant: str, prediction_id: str, deliveries: tuple[PlannedDelivery, ...]) -> None:
        if self.fail:
            raise TransientError("webhooks queue down")
        self.published.extend((tenant, prediction_id, delivery) for delivery in deliveries)


class InMemoryKeyStore:
    def __init__(self) -> None:
        self.by_hash: dict[str, ApiKey] = {}

    def create(self, key: ApiKey, secret_hash: str, max_active: int | None = None) -> None:
        if max_active is not None and sum(k.tenant == key.tenant for k in self.by_hash.values()) >= max_active:
            raise KeyLimitReachedError(max_active)
        self.by_hash[secret_hash] = key

    def find_by_hash(self, secret_hash: str) -> ApiKey | None:
        return self.by_hash.get(secret_hash)

    def list(self, tenant: str, limit: int, after: str | None) -> tuple[list[ApiKey], str | None]:
        keys = sorted((k for k in self.by_hash.values() if k.tenant == tenant), key=lambda k: k.id, reverse=True)
        if after is not None:
            keys = [k for k in keys if k.id < after]
        more = len(keys) > limit
        return keys[:limit], keys[limit - 1].id if more else None

    def delete(self, tenant: str, key_id: str) -> None:
        for secret_hash, key in list(self.by_hash.items()):
            if key.tenant == tenant and key.id == key_id:
                del self.by_hash[secret_hash]
                return
        raise KeyNotFoundError(key_id)


def _conforms() -> None:
    """Type-checked only: the fakes satisfy the same Protocols as the DynamoDB/SQS adapters."""
    store: PredictionStore = InMemoryPredictionStore()
    queue: PredictionQueue = InMemoryQueue()
    keys: KeyStore = InMemoryKeyStore()
    publisher: DeliveryPublisher = InMemoryPublisher()
    models: ModelStore = InMemoryModelStore()
    del store, queue, keys, publisher, models


class InMemoryModelStore:
    """Registered models of every tenant, numbered as the DynamoDB store numbers them."""

    def __init__(self) -> None:
        self.versions: dict[tuple[str, str], list[ModelVersion]] = {}
        self.descriptions: dict[tuple[str, str], str] = {}
        self.reads = 0

    def list_models(self, tenant: str) -> list[Model]:
        names = sorted(name for owner, name in self.versions if owner == tenant)
        return [model for name in names if (model := self.get_model(tenant, name)) is not None]

    def get_model(self, tenant: str, name: str) -> Model | None:
        self.reads += 1
        found = self.versions.get((tenant, name))
        if not found:
            return None
        return Model(name=name, description=self.descriptions[(tenant, name)], versions=tuple(found))

    def get_version(self, tenant: str, name: str, version: int | None) -> ModelVersion | None:
        self.reads += 1
        found = self.versions.get((tenant, name), [])
        if version is None:
            return found[-1] if found else None
        return next((v for v in found if v.version == version), None)

    def add_version(self, tenant: str, new: NewVersion, created_at: str) -> ModelVersion:
        found = self.versions.setdefault((tenant, new.name), [])
        version = new.numbered(len(found) + 1, created_at)
        found.append(version)
        self.descriptions[(tenant, new.name)] = new.description
        return version
