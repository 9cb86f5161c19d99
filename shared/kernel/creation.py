"""The create step predictions and batches share: once per ``Idempotency-Key``, never left unqueued.

After its own checks (model, input or upload), a create use case hands over what differs (its store,
how to build the resource at a moment, what makes two requests "the same", how to queue it and how to
fail it) and this step does the rest, in this order: check the webhook URL, build the resource, store it
with the key's claim in the same write, answer a replay (the same key and request: the original; another
request: 409), queue it, and fail it when the queue is down before the fault reaches the caller (freeing
the key, so that a retry with it creates the resource anew).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from shared.kernel.clock import utc_now
from shared.kernel.idempotency import IdempotencyClaim, IdempotencyConflictError, IdempotentReplayError
from shared.kernel.observability import logger
from shared.kernel.webhook_urls import check_url


class Resource(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def tenant(self) -> str: ...


R = TypeVar("R", bound=Resource)


class CreateStore(Protocol[R]):
    def create(self, resource: R, claim: IdempotencyClaim | None = None, /) -> None:
        """Store ``resource`` and ``claim`` in one write; ``IdempotentReplayError`` when the key is held."""
        ...

    def get(self, tenant: str, resource_id: str, /) -> R: ...

    def release(self, resource: R, claim: IdempotencyClaim, /) -> None:
        """Free the claim's key at once, if it still names ``resource``."""
        ...


@dataclass(frozen=True)
class Created(Generic[R]):
    resource: R
    replayed: bool  # the resource an earlier request with the same key and body created: nothing was queued


def create_idempotently(
    store: CreateStore[R],
    build: Callable[[datetime], R],
    *,
    fingerprint: Mapping[str, Any],
    idempotency_key: str | None,
    webhook: str | None,
    allow_insecure_webhooks: bool,
    enqueue: Callable[[R], None],
    fail_unqueued: Callable[[R], None],
) -> Created[R]:
    """``build`` makes the resource (a fresh id) at the moment given; ``fingerprint``: the request fields
    that make a repeated create "the same"; ``fail_unqueued`` marks a resource nothing will ever work on."""
    if webhook is not None:
        check_url(webhook, allow_insecure=allow_insecure_webhooks)
    now = utc_now()
    resource = build(now)
    claim = IdempotencyClaim.of(idempotency_key, fingerprint, now)
    try:
        store.create(resource, claim)
    except IdempotentReplayError as replay:
        if claim is None:  # a store raises it only for a claim
            raise
        if replay.fingerprint != claim.fingerprint:
            raise IdempotencyConflictError() from None
        if replay.resource_id != resource.id:
            return Created(store.get(resource.tenant, replay.resource_id), replayed=True)
        # Our own write, retried by the SDK after a lost response: it is stored; queue it as usual.
    try:
        enqueue(resource)
    except Exception:
        # Never leave a resource that nothing will ever work on: fail it, then surface the fault. The key
        # is freed, so that the caller's retry with it (the fault is transient) creates the resource
        # anew instead of replaying the failed one for 24 hours.
        try:
            fail_unqueued(resource)
            if claim is not None:
                store.release(resource, claim)
        except Exception:  # noqa: BLE001 - the original fault is re-raised below
            logger.exception("could not fail an unqueued resource", extra={"resource_id": resource.id})
        raise
    return Created(resource, replayed=False)
