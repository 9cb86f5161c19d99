"""Use cases of the batch API: create, get, list, cancel.

A batch of either dialect has a completion window (OpenAI's ``24h``): created at ``t``, it ends ``expired``
if it is not finished by ``t + completion_window`` (``window_ends_at``; the public ``expires_at``).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.batches.finalizer import BatchFinalizer
from shared.batches.models import (
    Batch,
    BatchNotFoundError,
    BatchStatus,
    BatchTransition,
    BatchTransitionRejectedError,
    LineProblem,
)
from shared.batches.ports import BatchSteps, BatchStore
from shared.kernel.clock import to_rfc3339, utc_now
from shared.kernel.creation import create_idempotently
from shared.kernel.errors import BadRequestError
from shared.kernel.ids import IdKind, is_valid_id, new_id
from shared.kernel.observability import logger, metrics
from shared.kernel.pagination import CursorCodec, Page
from shared.registry.service import ModelRegistry
from shared.uploads.models import Purpose
from shared.uploads.service import UploadService

LISTING = "batches"
COMPLETION_WINDOW = timedelta(hours=24)  # OpenAI's only window


class InvalidListPositionError(BadRequestError):
    def __init__(self, message: str) -> None:
        super().__init__(message)


@dataclass(frozen=True)
class NewBatch:
    model: str
    input_upload_id: str
    webhook: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


class BatchService:
    def __init__(
        self,
        store: BatchStore,
        steps: BatchSteps,
        finalizer: BatchFinalizer,
        registry: ModelRegistry,
        uploads: UploadService,
        cursors: CursorCodec,
        retention: timedelta,
        allow_insecure_webhooks: bool = False,
        completion_window: timedelta = COMPLETION_WINDOW,
    ) -> None:
        self._store = store
        self._steps = steps
        self._finalizer = finalizer
        self._registry = registry
        self._uploads = uploads
        self._cursors = cursors
        self._retention = retention
        self._allow_insecure_webhooks = allow_insecure_webhooks
        self._completion_window = completion_window

    def create(self, tenant: str, request: NewBatch, idempotency_key: str | None = None) -> Batch:
        """Check the model, the upload and the webhook, store the batch and queue its validation."""
        version = self._registry.resolve_requested(tenant, request.model)
        upload = self._uploads.ready_for(tenant, request.input_upload_id, Purpose.BATCH_INPUT, "/input_upload_id")

        def build(now: datetime) -> Batch:
            return Batch(
                id=new_id(IdKind.BATCH),
                tenant=tenant,
                model=version.name,
                version=version.version,
                status=BatchStatus.VALIDATING,
                input_upload_id=upload.id,
                input_key=upload.key,
                created_at=to_rfc3339(now),
                expires_at=int((now + self._retention).timestamp()),
                window_ends_at=to_rfc3339(now + self._completion_window),
                metadata=request.metadata,
                webhook=request.webhook,
            )

        created = create_idempotently(
            self._store,
            build,
            fingerprint={
                "model": request.model,
                "input_upload_id": request.input_upload_id,
                "webhook": request.webhook,
                "metadata": request.metadata,
            },
            idempotency_key=idempotency_key,
            webhook=request.webhook,
            allow_insecure_webhooks=self._allow_insecure_webhooks,
            enqueue=lambda batch: self._steps.validate(tenant, batch.id, 0, 1),
            fail_unqueued=self._fail_unqueued,
        )
        batch = created.resource
        if created.replayed:
            logger.info("idempotent replay", extra={"batch_id": batch.id})
            return batch
        logger.info("batch created", extra={"batch_id": batch.id, "model": batch.model})
        metrics.add_metric(name="BatchCreated", unit="Count", value=1)
        return batch

    def get(self, tenant: str, batch_id: str) -> Batch:
        if not is_valid_id(IdKind.BATCH, batch_id):
            raise BatchNotFoundError(batch_id)
        return self._store.get(tenant, batch_id)

    def list(self, tenant: str, limit: int, cursor: str | None, after: str | None = None) -> Page[Batch]:
        """Newest first: the page after the signed ``cursor`` of a previous page's ``next``, or after the
        batch ``after`` (OpenAI's parameter: an id, looked up in the tenant's own batches only)."""
        if after is None:
            return self._cursors.page(tenant, LISTING, limit, cursor, self._store.list)
        if cursor is not None:
            raise InvalidListPositionError("Send either `after` or `cursor`, not both.")
        if not is_valid_id(IdKind.BATCH, after):
            raise InvalidListPositionError("`after` is not a batch id (`bat_...`).")
        items, position = self._store.list(tenant, limit, after)
        return Page(items, self._cursors.encode(tenant, LISTING, position) if position else None)

    def cancel(self, tenant: str, batch_id: str) -> Batch:
        """Unfinished lines are not run; what finished stays in the files. A batch that is finalizing or
        final is returned as it is."""
        current = self.get(tenant, batch_id)
        if current.status not in (BatchStatus.VALIDATING, BatchStatus.IN_PROGRESS):
            return current
        try:
            canceling = self._store.transition(current, BatchTransition(BatchStatus.CANCELING, to_rfc3339(utc_now())))
        except BatchTransitionRejectedError as lost:
            return lost.current
        logger.info("batch canceling", extra={"batch_id": batch_id})
        self._steps.finalize(tenant, batch_id)  # ends it now if no chunk is left to count
        return canceling

    def _fail_unqueued(self, batch: Batch) -> None:
        problem = LineProblem(0, "queue_unavailable", "The batch could not be queued; create it again.")
        self._finalizer.fail(batch, (problem,))
