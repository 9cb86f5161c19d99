"""Composition root: builds each service once per container from settings and lazy AWS clients.

Each factory imports what it builds, when it is first called: a function pays at cold start only for
the services its route uses (``bench/cold_start.py``), not for every service of the application.
"""

from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from shared.adapters.clients import dynamodb_client, lambda_client, lazily, s3_client, sqs_client
from shared.kernel import container, tracing
from shared.kernel.container import per_container
from shared.settings import (
    BatchSettings,
    BucketSettings,
    CursorSettings,
    DeadLetterSettings,
    InspectorSettings,
    JwtClaimSettings,
    KeySettings,
    ModelTimeSettings,
    QueueSettings,
    RateLimitSettings,
    RuntimeSettings,
    SchemaSettings,
    StoreSettings,
    SweepSettings,
    TracingSettings,
    WebhookDeadLetterSettings,
    WebhookSettings,
    WebhookUrlSettings,
    settings,
)

if TYPE_CHECKING:
    from shared.adapters.dynamodb.batches import DynamoBatchStore
    from shared.adapters.dynamodb.deliveries import DynamoDeliveryStore
    from shared.adapters.dynamodb.files import DynamoFileStore
    from shared.adapters.dynamodb.models import DynamoModelStore
    from shared.adapters.dynamodb.predictions import DynamoPredictionStore
    from shared.adapters.s3.batch_files import S3BatchFiles
    from shared.adapters.s3.objects import S3ObjectStore
    from shared.adapters.sqs import SqsBatchSteps, SqsDeliveryQueue, SqsPredictionQueue
    from shared.batches.finalizer import BatchFinalizer
    from shared.batches.recovery import BatchRecovery
    from shared.batches.runner import ChunkRunner
    from shared.batches.service import BatchService
    from shared.batches.sweeper import BatchSweeper
    from shared.batches.validation import BatchValidator
    from shared.files.service import FileService
    from shared.inference.service import InferenceService
    from shared.kernel.pagination import CursorCodec
    from shared.kernel.tasks import TaskPool
    from shared.keys.claims import ClaimMapping
    from shared.keys.service import KeyService
    from shared.operations.commands import DeadLetterKind
    from shared.operations.ports import DeadLetterQueue
    from shared.operations.service import Operations
    from shared.predictions.runner import PredictionRunner
    from shared.predictions.service import PredictionService
    from shared.predictions.sweeper import Sweeper
    from shared.predictions.transitions import Transitions
    from shared.ratelimit.service import RateLimits
    from shared.registry.registration import ModelRegistration
    from shared.registry.service import ModelRegistry
    from shared.representations import EventPayloads
    from shared.runtimes.budget import WorkerBudget
    from shared.runtimes.loader import RuntimeLoader
    from shared.uploads.service import UploadService
    from shared.webhooks.http import DeliveryResponse
    from shared.webhooks.service import DeliveryQueries, SecretService, WebhookDeliverer


def start_tracing() -> None:
    """Tracing on for this process when the template says so (``TRACING=On``), before any client is made: the
    SDK is imported here and only here, so with tracing off no tracing library is loaded. Once per process
    (a reset keeps it: the provider holds no connection or credential)."""
    configured = settings(TracingSettings)
    if configured.on and not tracing.enabled():
        from shared.adapters.tracing import start

        start(configured.endpoint)


def model_store() -> "DynamoModelStore":
    from shared.adapters.dynamodb.models import DynamoModelStore

    return DynamoModelStore(settings(StoreSettings).table_name, lazily(dynamodb_client))


@per_container
def model_registry() -> "ModelRegistry":
    from shared.registry.service import ModelRegistry

    return ModelRegistry(model_store(), evaluation_seconds=settings(SchemaSettings).evaluation_seconds)


def object_store() -> "S3ObjectStore":
    from shared.adapters.s3.objects import S3ObjectStore

    return S3ObjectStore(settings(BucketSettings).bucket_name, lazily(s3_client))


@per_container
def file_store() -> "DynamoFileStore":
    from shared.adapters.dynamodb.files import DynamoFileStore

    return DynamoFileStore(settings(StoreSettings).table_name, lazily(dynamodb_client))


@per_container
def file_service() -> "FileService":
    from shared.files.service import FileService

    return FileService(file_store(), object_store(), timedelta(days=settings(StoreSettings).retention_days))


@per_container
def upload_service() -> "UploadService":
    from shared.adapters.dynamodb.uploads import DynamoUploadStore
    from shared.uploads.service import UploadService

    lifetime = timedelta(seconds=settings(BucketSettings).upload_url_seconds)
    return UploadService(
        DynamoUploadStore(settings(StoreSettings).table_name, lazily(dynamodb_client)),
        object_store(),
        lifetime,
        timedelta(days=settings(StoreSettings).retention_days),
        files=file_store(),
        assembler=batch_files(),
    )


@per_container
def model_registration() -> "ModelRegistration":
    from shared.adapters.lambda_inspector import LambdaArtifactInspector
    from shared.registry.registration import ModelRegistration

    inspector = LambdaArtifactInspector(settings(InspectorSettings).inspector_function_name, lazily(lambda_client))
    return ModelRegistration(model_registry(), model_store(), upload_service(), inspector)


@per_container
def runtime_loader() -> "RuntimeLoader":
    from shared.runtimes.artifacts import ArtifactFiles
    from shared.runtimes.loader import RuntimeLoader

    runtime = settings(RuntimeSettings)
    files = ArtifactFiles(object_store(), Path(runtime.model_dir))
    return RuntimeLoader(
        files,
        max_sessions=runtime.max_sessions,
        max_bytes=runtime.max_bytes,
        builtin_models_dir=Path(runtime.builtin_models_dir),
    )


@per_container
def cursor_codec() -> "CursorCodec":
    from shared.adapters.secrets_manager import secret_bytes
    from shared.kernel.pagination import CursorCodec

    def secret() -> bytes:  # read on use: only listing functions hold the secret's permission
        cursor = settings(CursorSettings)
        return secret_bytes(cursor.cursor_secret_arn, cursor.cursor_secret_max_age_seconds)

    return CursorCodec(secret)


@per_container
def rate_limiter() -> "RateLimits":
    from shared.adapters.dynamodb.ratelimits import DynamoRateLimitStore
    from shared.ratelimit.models import RateLimit
    from shared.ratelimit.service import RateLimiter, RateLimits

    limits = settings(RateLimitSettings)
    per_key = RateLimit(limits.per_second, limits.burst) if limits.per_second > 0 else None
    per_tenant = RateLimit(limits.tenant_per_second, limits.tenant_burst) if limits.tenant_per_second > 0 else None
    store = DynamoRateLimitStore(settings(StoreSettings).table_name, lazily(dynamodb_client))
    return RateLimits(RateLimiter(store, per_key), RateLimiter(store, per_tenant, subject="tenant"))


@per_container
def jwt_claim_mapping() -> "ClaimMapping":
    from shared.keys.claims import ClaimMapping
    from shared.keys.models import Scope

    claims = settings(JwtClaimSettings)
    names = {claims.predict_scope: Scope.PREDICT, claims.admin_scope: Scope.ADMIN}
    return ClaimMapping(claims.tenant_claim, claims.scopes_claim, names)


@per_container
def key_service() -> "KeyService":
    from shared.adapters.dynamodb.keys import DynamoKeyStore
    from shared.keys.service import KeyService

    store = DynamoKeyStore(settings(StoreSettings).table_name, lazily(dynamodb_client))
    return KeyService(store, cursor_codec(), settings(KeySettings).max_keys_per_tenant)


def operations() -> "Operations":
    """The operator commands: keys minted with no per-tenant cap, and the three dead-letter queues."""
    from shared.adapters.dynamodb.keys import DynamoKeyStore
    from shared.adapters.sqs_dead_letters import SqsDeadLetterQueue
    from shared.keys.service import KeyService
    from shared.operations.service import Operations
    from shared.webhooks.worker import redrive

    queues, dead = settings(QueueSettings), settings(DeadLetterSettings)
    keys = KeyService(DynamoKeyStore(settings(StoreSettings).table_name, lazily(dynamodb_client)), cursor_codec())
    dead_letters: dict[DeadLetterKind, DeadLetterQueue] = {
        "predictions": SqsDeadLetterQueue(dead.predictions_dlq_url, queues.predictions_queue_url, lazily(sqs_client)),
        "batches": SqsDeadLetterQueue(
            dead.batches_dlq_url, settings(BatchSettings).batches_queue_url, lazily(sqs_client)
        ),
        "webhooks": SqsDeadLetterQueue(
            settings(WebhookDeadLetterSettings).webhooks_dlq_url, queues.webhooks_queue_url, lazily(sqs_client)
        ),
    }

    def redrive_webhooks(limit: int) -> int:
        return redrive(webhooks_dead_letters(), webhooks_queue(), delivery_store(), limit)

    return Operations(keys, dead_letters, redrive_webhooks)


@per_container
def inference_service() -> "InferenceService":
    from shared.inference.service import InferenceService

    return InferenceService(model_registry(), runtime_loader(), settings(ModelTimeSettings).predict_seconds)


def prediction_store() -> "DynamoPredictionStore":
    from shared.adapters.dynamodb.predictions import DynamoPredictionStore

    stuck_after = timedelta(seconds=settings(SweepSettings).stuck_after_seconds)
    return DynamoPredictionStore(settings(StoreSettings).table_name, lazily(dynamodb_client), stuck_after)


@per_container
def sweeper() -> "Sweeper":
    from shared.adapters.sqs import SqsPredictionQueue
    from shared.predictions.sweeper import Sweeper

    sweep = settings(SweepSettings)
    queue = SqsPredictionQueue(settings(QueueSettings).predictions_queue_url, lazily(sqs_client))
    store = prediction_store()
    stuck_after = timedelta(seconds=sweep.stuck_after_seconds)
    return Sweeper(store, store, transitions(), queue, stuck_after, sweep.max_requeues)


def transitions() -> "Transitions":
    from shared.adapters.sqs import SqsDeliveryQueue
    from shared.predictions.transitions import Transitions

    return Transitions(
        prediction_store(), SqsDeliveryQueue(settings(QueueSettings).webhooks_queue_url, lazily(sqs_client))
    )


@per_container
def prediction_service() -> "PredictionService":
    from shared.adapters.sqs import SqsPredictionQueue
    from shared.predictions.service import PredictionService

    queue = SqsPredictionQueue(settings(QueueSettings).predictions_queue_url, lazily(sqs_client))
    retention = timedelta(days=settings(StoreSettings).retention_days)
    allow_insecure = settings(WebhookUrlSettings).allow_insecure
    return PredictionService(
        prediction_store(), transitions(), queue, model_registry(), cursor_codec(), retention, allow_insecure
    )


def predictions_queue() -> "SqsPredictionQueue":
    from shared.adapters.sqs import SqsPredictionQueue

    return SqsPredictionQueue(settings(QueueSettings).predictions_queue_url, lazily(sqs_client))


def worker_budget(remaining_seconds: Callable[[], float]) -> "WorkerBudget":
    """The worker's model-call limit and reserve (settings), within what is left of its invocation."""
    from shared.runtimes.budget import WorkerBudget

    times = settings(ModelTimeSettings)
    return WorkerBudget(times.worker_seconds, times.worker_reserve_seconds, remaining_seconds)


@per_container
def worker_tasks() -> "TaskPool":
    """The worker's threads for the round trips of one delivery, one per message of an SQS batch.

    Kept for the container's life: Lambda runs one invocation at a time in it, so they are the
    invocation's alone, and their start (~0.1 ms each) is paid once, not on every delivery.
    """
    from shared.kernel.tasks import TaskPool
    from shared.predictions.runner import TASKS_PER_DELIVERY

    return TaskPool(TASKS_PER_DELIVERY)


@per_container
def prediction_runner() -> "PredictionRunner":
    from shared.predictions.runner import PredictionRunner

    return PredictionRunner(prediction_store(), transitions(), model_registry(), runtime_loader(), worker_tasks())


def delivery_store() -> "DynamoDeliveryStore":
    from shared.adapters.dynamodb.deliveries import DynamoDeliveryStore

    return DynamoDeliveryStore(settings(StoreSettings).table_name, lazily(dynamodb_client))


@per_container
def secret_service() -> "SecretService":
    from shared.webhooks.service import SecretService

    return SecretService(delivery_store())


@per_container
def delivery_queries() -> "DeliveryQueries":
    from shared.webhooks.service import DeliveryQueries

    return DeliveryQueries(delivery_store(), prediction_store())


def webhooks_queue() -> "SqsDeliveryQueue":
    from shared.adapters.sqs import SqsDeliveryQueue

    return SqsDeliveryQueue(settings(QueueSettings).webhooks_queue_url, lazily(sqs_client))


def webhooks_dead_letters() -> "SqsDeliveryQueue":
    from shared.adapters.sqs import SqsDeliveryQueue

    return SqsDeliveryQueue(settings(WebhookDeadLetterSettings).webhooks_dlq_url, lazily(sqs_client))


@per_container
def webhook_deliverer() -> "WebhookDeliverer":
    from shared.webhooks.schedule import RetrySchedule
    from shared.webhooks.service import WebhookDeliverer

    webhooks = settings(WebhookSettings)
    allow_insecure = settings(WebhookUrlSettings).allow_insecure

    def send(url: str, body: bytes, headers: Mapping[str, str]) -> "DeliveryResponse":
        from shared.webhooks.http import post_webhook

        return post_webhook(url, body, headers, timeout_seconds=webhooks.timeout_seconds, allow_insecure=allow_insecure)

    schedule = RetrySchedule(scale=webhooks.retry_scale)
    return WebhookDeliverer(delivery_store(), event_payloads(), secret_service(), send, schedule)


def event_payloads() -> "EventPayloads":
    from shared.representations import EventPayloads

    return EventPayloads(prediction_store(), batch_store(), settings(WebhookSettings).api_base_url, download_url)


def batch_store() -> "DynamoBatchStore":
    from shared.adapters.dynamodb.batches import DynamoBatchStore

    stuck_after = timedelta(seconds=settings(SweepSettings).stuck_after_seconds)
    return DynamoBatchStore(settings(StoreSettings).table_name, lazily(dynamodb_client), stuck_after)


def batch_files() -> "S3BatchFiles":
    from shared.adapters.s3.batch_files import S3BatchFiles

    return S3BatchFiles(settings(BucketSettings).bucket_name, lazily(s3_client))


def download_url(key: str) -> str:
    """A short-lived presigned GET of a batch's result file."""
    return batch_files().presign_get(key, settings(BatchSettings).download_url_seconds)


def batch_steps() -> "SqsBatchSteps":
    from shared.adapters.sqs import SqsBatchSteps

    return SqsBatchSteps(settings(BatchSettings).batches_queue_url, lazily(sqs_client))


def batch_finalizer() -> "BatchFinalizer":
    from shared.batches.finalizer import BatchFinalizer

    return BatchFinalizer(batch_store(), batch_files(), webhooks_queue(), file_store())


@per_container
def batch_service() -> "BatchService":
    from shared.batches.service import BatchService

    return BatchService(
        batch_store(),
        batch_steps(),
        batch_finalizer(),
        model_registry(),
        upload_service(),
        file_service(),
        batch_files(),
        cursor_codec(),
        timedelta(days=settings(StoreSettings).retention_days),
        settings(WebhookUrlSettings).allow_insecure,
        timedelta(seconds=settings(BatchSettings).completion_window_seconds),
    )


@per_container
def batch_validator() -> "BatchValidator":
    from shared.adapters.sqs import SqsChunkQueue
    from shared.batches.validation import BatchValidator, ValidationLimits

    batches = settings(BatchSettings)
    chunks = SqsChunkQueue(settings(QueueSettings).predictions_queue_url, lazily(sqs_client))
    limits = ValidationLimits(step_bytes=batches.step_bytes, chunk_lines=batches.chunk_lines)
    return BatchValidator(batch_store(), batch_files(), batch_steps(), chunks, batch_finalizer(), limits)


@per_container
def batch_sweeper() -> "BatchSweeper":
    from shared.batches.sweeper import BatchSweeper

    sweep = settings(SweepSettings)
    stuck_after = timedelta(seconds=sweep.stuck_after_seconds)
    return BatchSweeper(batch_store(), batch_steps(), stuck_after, sweep.max_requeues)


@per_container
def batch_recovery() -> "BatchRecovery":
    from shared.adapters.sqs import SqsChunkQueue
    from shared.batches.recovery import BatchRecovery

    chunks = SqsChunkQueue(settings(QueueSettings).predictions_queue_url, lazily(sqs_client))
    return BatchRecovery(batch_store(), batch_files(), batch_steps(), chunks, batch_finalizer())


@per_container
def chunk_runner() -> "ChunkRunner":
    from shared.batches.runner import ChunkRunner

    return ChunkRunner(
        batch_store(),
        batch_files(),
        batch_steps(),
        model_registry(),
        runtime_loader(),
        settings(SchemaSettings).chunk_validation_seconds,
    )


def reset() -> None:
    """Forget settings, AWS clients, services and cached secrets: everything a container keeps.

    Tests and the local stack call it when they change the environment or the AWS endpoint; a SnapStart
    restore calls it so nothing keeps the snapshotted container's connections. Every cache is registered
    in ``shared.kernel.container`` (``per_container``), so none can be left out here.
    """
    container.forget()
