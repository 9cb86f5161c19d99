"""Use cases of the batch API: create, get, list, cancel."""

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
from shared.kernel.ids import IdKind, is_valid_id, new_id
from shared.kernel.observability import logger, metrics
from shared.kernel.pagination import CursorCodec, Page
from shared.registry.service import ModelRegistry
from shared.uploads.models import Purpose
from shared.uploads.service import UploadService

LISTING = "batches"


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
    ) -> None:
        self._store = store
        self._steps = steps
        self._finalizer = finalizer
        self._registry = registry
        self._uploads = uploads
        self._cursors = cursors
        self._retention = retention
        self._allow_insecure_webhooks = allow_insecure_webhooks

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

    def list(self, tenant: str, limit: int, cursor: str | None) -> Page[Batch]:
        return self._cursors.page(tenant, LISTING, limit, cursor, self._store.list)

    def cancel(self, tenant: str, batch_id: str) -> Batch:
        """Unfinished lines are not run; what finished stays in the files. A finished batch is returned as it is."""
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
