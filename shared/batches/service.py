"""Use cases of the batch API: create (in either dialect), get, list, cancel.

A batch of either dialect has a completion window (OpenAI's ``24h``): created at ``t``, it ends ``expired``
if it is not finished by ``t + completion_window`` (``window_ends_at``; the public ``expires_at``).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.batches.finalizer import BatchFinalizer
from shared.batches.models import (
    Batch,
    BatchModelNotFoundError,
    BatchNotFoundError,
    BatchStatus,
    BatchTransition,
    BatchTransitionRejectedError,
    LineProblem,
)
from shared.batches.ports import BatchFiles, BatchSteps, BatchStore
from shared.batches.requests import (
    InvalidBatchRequestError,
    NewBatch,
    NewOpenAiBatch,
    check_openai_request,
    first_line,
)
from shared.files.models import FilePurpose
from shared.files.service import FileService
from shared.kernel.clock import to_rfc3339, utc_now
from shared.kernel.creation import create_idempotently
from shared.kernel.errors import BadRequestError
from shared.kernel.ids import IdKind, is_valid_id, new_id
from shared.kernel.observability import logger, metrics
from shared.kernel.pagination import CursorCodec, Page
from shared.openai.embeddings import embeddings_spec, not_embeddings_message
from shared.registry.models import ModelVersion, UnknownModelError
from shared.registry.service import ModelRegistry
from shared.uploads.models import Purpose
from shared.uploads.service import UploadService

__all__ = ["BatchService", "NewBatch", "NewOpenAiBatch"]

LISTING = "batches"
COMPLETION_WINDOW = timedelta(hours=24)  # OpenAI's only window


class InvalidListPositionError(BadRequestError):
    """A listing's ``after`` that is not a batch id, or sent with a ``cursor``."""


@dataclass(frozen=True)
class _Input:
    """Where a new batch's lines come from, and what it runs them with."""

    version: ModelVersion
    key: str
    upload_id: str | None
    file_id: str | None


class BatchService:
    def __init__(
        self,
        store: BatchStore,
        steps: BatchSteps,
        finalizer: BatchFinalizer,
        registry: ModelRegistry,
        uploads: UploadService,
        files: FileService,
        batch_files: BatchFiles,
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
        self._files = files
        self._batch_files = batch_files
        self._cursors = cursors
        self._retention = retention
        self._allow_insecure_webhooks = allow_insecure_webhooks
        self._completion_window = completion_window

    def create(self, tenant: str, request: NewBatch | NewOpenAiBatch, idempotency_key: str | None = None) -> Batch:
        """Check the model, the input file and the webhook, store the batch and queue its validation."""
        if isinstance(request, NewOpenAiBatch):
            source = self._openai_input(tenant, request)
        else:
            source = self._native_input(tenant, request)
        webhook = request.webhook

        def build(now: datetime) -> Batch:
            return Batch(
                id=new_id(IdKind.BATCH),
                tenant=tenant,
                model=source.version.name,
                version=source.version.version,
                status=BatchStatus.VALIDATING,
                input_upload_id=source.upload_id,
                input_key=source.key,
                created_at=to_rfc3339(now),
                expires_at=int((now + self._retention).timestamp()),
                window_ends_at=to_rfc3339(now + self._completion_window),
                metadata=request.metadata,
                webhook=webhook,
                dialect=request.dialect,
                input_file_id=source.file_id,
                output_file_id=new_id(IdKind.FILE),
                error_file_id=new_id(IdKind.FILE),
                endpoint=request.endpoint if isinstance(request, NewOpenAiBatch) else None,
            )

        created = create_idempotently(
            self._store,
            build,
            fingerprint=_fingerprint(request),
            idempotency_key=idempotency_key,
            webhook=webhook,
            allow_insecure_webhooks=self._allow_insecure_webhooks,
            enqueue=lambda batch: self._steps.validate(tenant, batch.id, 0, 1),
            fail_unqueued=self._fail_unqueued,
        )
        batch = created.resource
        if created.replayed:
            logger.info("idempotent replay", extra={"batch_id": batch.id})
            return batch
        logger.info("batch created", extra={"batch_id": batch.id, "model": batch.model, "dialect": batch.dialect.value})
        metrics.add_metric(name="BatchCreated", unit="Count", value=1)
        return batch

    def _native_input(self, tenant: str, request: NewBatch) -> _Input:
        version = self._registry.resolve_requested(tenant, request.model)
        if (request.input_upload_id is None) == (request.input_file_id is None):
            message = "Name the input file with exactly one of input_upload_id and input_file_id."
            raise InvalidBatchRequestError("/input_upload_id", message)
        if request.input_file_id is not None:
            stored = self._files.ready_for(tenant, request.input_file_id, FilePurpose.BATCH, "/input_file_id")
            return _Input(version, stored.key, None, stored.id)
        assert request.input_upload_id is not None
        upload = self._uploads.ready_for(tenant, request.input_upload_id, Purpose.BATCH_INPUT, "/input_upload_id")
        return _Input(version, upload.key, upload.id, None)

    def _openai_input(self, tenant: str, request: NewOpenAiBatch) -> _Input:
        """The model the file's first line names (404 ``model_not_found`` if there is none; 400 if it
        cannot serve the endpoint), pinned as a native batch pins the one it names."""
        check_openai_request(request)
        stored = self._files.ready_for(tenant, request.input_file_id, FilePurpose.BATCH, "/input_file_id")
        line = first_line(self._batch_files, stored, request.endpoint)
        assert line.model is not None
        try:
            version = self._registry.resolve_requested(tenant, line.model)
        except UnknownModelError as unknown:
            raise BatchModelNotFoundError(str(unknown)) from None
        if embeddings_spec(version) is None:
            message = f"{not_embeddings_message(version.name)} It cannot serve {request.endpoint}."
            raise InvalidBatchRequestError("/input_file_id", message)
        return _Input(version, stored.key, None, stored.id)

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


def _fingerprint(request: NewBatch | NewOpenAiBatch) -> dict[str, object]:
    """What makes two creates with one ``Idempotency-Key`` the same request, in the request's dialect."""
    if isinstance(request, NewOpenAiBatch):
        return {
            "dialect": request.dialect.value,
            "input_file_id": request.input_file_id,
            "endpoint": request.endpoint,
            "completion_window": request.completion_window,
            "metadata": request.metadata,
            "webhook": request.webhook,
        }
    fingerprint: dict[str, object] = {
        "model": request.model,
        "input_upload_id": request.input_upload_id,
        "webhook": request.webhook,
        "metadata": request.metadata,
    }
    if request.input_file_id is not None:  # so a native request keeps its fingerprint of before
        fingerprint["input_file_id"] = request.input_file_id
    return fingerprint
