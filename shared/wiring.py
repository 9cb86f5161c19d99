"""Composition root: builds each service once per container from settings and lazy AWS clients.

Each factory imports what it builds, when it is first called: a function pays at cold start only for
the services its route uses (``bench/cold_start.py``), not for every service of the application.
"""

from collections.abc import Callable, Mapping
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from shared.adapters.clients import dynamodb_client, lambda_client, s3_client, sqs_client
from shared.settings import (
    batch_settings,
    bucket_settings,
    cursor_settings,
    inspector_settings,
    key_settings,
    model_time_settings,
    queue_settings,
    rate_limit_settings,
    runtime_settings,
    schema_settings,
    store_settings,
    sweep_settings,
    webhook_settings,
    webhook_validation_settings,
)

if TYPE_CHECKING:
    from shared.adapters.dynamodb.batches import DynamoBatchStore
    from shared.adapters.dynamodb.deliveries import DynamoDeliveryStore
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
    from shared.inference.service import InferenceService
    from shared.kernel.pagination import CursorCodec
    from shared.keys.service import KeyService
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


def model_store() -> "DynamoModelStore":
    from shared.adapters.dynamodb.models import DynamoModelStore

    return DynamoModelStore(store_settings().table_name, dynamodb_client())


@cache
def model_registry() -> "ModelRegistry":
    from shared.registry.service import ModelRegistry

    return ModelRegistry(model_store(), evaluation_seconds=schema_settings().evaluation_seconds)


def object_store() -> "S3ObjectStore":
    from shared.adapters.s3.objects import S3ObjectStore

    return S3ObjectStore(bucket_settings().bucket_name, s3_client())


@cache
def upload_service() -> "UploadService":
    from shared.adapters.dynamodb.uploads import DynamoUploadStore
    from shared.uploads.service import UploadService

    lifetime = timedelta(seconds=bucket_settings().upload_url_seconds)
    return UploadService(
        DynamoUploadStore(store_settings().table_name, dynamodb_client()),
        object_store(),
        lifetime,
        timedelta(days=store_settings().retention_days),
    )


@cache
def model_registration() -> "ModelRegistration":
    from shared.adapters.lambda_inspector import LambdaArtifactInspector
    from shared.registry.registration import ModelRegistration

    inspector = LambdaArtifactInspector(inspector_settings().inspector_function_name, lambda_client())
    return ModelRegistration(model_registry(), model_store(), upload_service(), inspector)


@cache
def runtime_loader() -> "RuntimeLoader":
    from shared.runtimes.artifacts import ArtifactFiles
    from shared.runtimes.loader import RuntimeLoader

    settings = runtime_settings()
    files = ArtifactFiles(object_store(), Path(settings.model_dir))
    return RuntimeLoader(files, max_sessions=settings.max_sessions, max_bytes=settings.max_bytes)


@cache
def cursor_codec() -> "CursorCodec":
    from shared.adapters.secrets_manager import secret_bytes
    from shared.kernel.pagination import CursorCodec

    def secret() -> bytes:  # read on use: only listing functions hold the secret's permission
        settings = cursor_settings()
        return secret_bytes(settings.cursor_secret_arn, settings.cursor_secret_max_age_seconds)

    return CursorCodec(secret)


@cache
def rate_limiter() -> "RateLimits":
    from shared.adapters.dynamodb.ratelimits import DynamoRateLimitStore
    from shared.ratelimit.models import RateLimit
    from shared.ratelimit.service import RateLimiter, RateLimits

    settings = rate_limit_settings()
    per_key = RateLimit(settings.per_second, settings.burst) if settings.per_second > 0 else None
    per_tenant = (
        RateLimit(settings.tenant_per_second, settings.tenant_burst) if settings.tenant_per_second > 0 else None
    )
    store = DynamoRateLimitStore(store_settings().table_name, dynamodb_client())
    return RateLimits(RateLimiter(store, per_key), RateLimiter(store, per_tenant, subject="tenant"))


@cache
def key_service() -> "KeyService":
    from shared.adapters.dynamodb.keys import DynamoKeyStore
    from shared.keys.service import KeyService

    store = DynamoKeyStore(store_settings().table_name, dynamodb_client())
    return KeyService(store, cursor_codec(), key_settings().max_keys_per_tenant)


@cache
def inference_service() -> "InferenceService":
    from shared.inference.service import InferenceService

    return InferenceService(model_registry(), runtime_loader(), model_time_settings().predict_seconds)


def prediction_store() -> "DynamoPredictionStore":
    from shared.adapters.dynamodb.predictions import DynamoPredictionStore

    stuck_after = timedelta(seconds=sweep_settings().stuck_after_seconds)
    return DynamoPredictionStore(store_settings().table_name, dynamodb_client(), stuck_after)


@cache
def sweeper() -> "Sweeper":
    from shared.adapters.sqs import SqsPredictionQueue
    from shared.predictions.sweeper import Sweeper

    settings = sweep_settings()
    queue = SqsPredictionQueue(queue_settings().predictions_queue_url, sqs_client())
    store = prediction_store()
    stuck_after = timedelta(seconds=settings.stuck_after_seconds)
    return Sweeper(store, store, transitions(), queue, stuck_after, settings.max_requeues)


def transitions() -> "Transitions":
    from shared.adapters.sqs import SqsDeliveryQueue
    from shared.predictions.transitions import Transitions

    return Transitions(prediction_store(), SqsDeliveryQueue(queue_settings().webhooks_queue_url, sqs_client()))


@cache
def prediction_service() -> "PredictionService":
    from shared.adapters.sqs import SqsPredictionQueue
    from shared.predictions.service import PredictionService

    queue = SqsPredictionQueue(queue_settings().predictions_queue_url, sqs_client())
    retention = timedelta(days=store_settings().retention_days)
    allow_insecure = webhook_validation_settings().allow_insecure
    return PredictionService(
        prediction_store(), transitions(), queue, model_registry(), cursor_codec(), retention, allow_insecure
    )


def predictions_queue() -> "SqsPredictionQueue":
    from shared.adapters.sqs import SqsPredictionQueue

    return SqsPredictionQueue(queue_settings().predictions_queue_url, sqs_client())


def worker_budget(remaining_seconds: Callable[[], float]) -> "WorkerBudget":
    """The worker's model-call limit and reserve (settings), within what is left of its invocation."""
    from shared.runtimes.budget import WorkerBudget

    settings = model_time_settings()
    return WorkerBudget(settings.worker_seconds, settings.worker_reserve_seconds, remaining_seconds)


@cache
def prediction_runner() -> "PredictionRunner":
    from shared.predictions.runner import PredictionRunner

    return PredictionRunner(prediction_store(), transitions(), model_registry(), runtime_loader())


def delivery_store() -> "DynamoDeliveryStore":
    from shared.adapters.dynamodb.deliveries import DynamoDeliveryStore

    return DynamoDeliveryStore(store_settings().table_name, dynamodb_client())


@cache
def secret_service() -> "SecretService":
    from shared.webhooks.service import SecretService

    return SecretService(delivery_store())


@cache
def delivery_queries() -> "DeliveryQueries":
    from shared.webhooks.service import DeliveryQueries

    return DeliveryQueries(delivery_store(), prediction_store())


def webhooks_queue() -> "SqsDeliveryQueue":
    from shared.adapters.sqs import SqsDeliveryQueue

    return SqsDeliveryQueue(queue_settings().webhooks_queue_url, sqs_client())


def webhooks_dead_letters() -> "SqsDeliveryQueue":
    from shared.adapters.sqs import SqsDeliveryQueue

    return SqsDeliveryQueue(webhook_settings().webhooks_dlq_url, sqs_client())


@cache
def webhook_deliverer() -> "WebhookDeliverer":
    from shared.webhooks.schedule import RetrySchedule
    from shared.webhooks.service import WebhookDeliverer

    settings = webhook_settings()

    def send(url: str, body: bytes, headers: Mapping[str, str]) -> "DeliveryResponse":
        from shared.webhooks.http import post_webhook

        return post_webhook(
            url, body, headers, timeout_seconds=settings.timeout_seconds, allow_insecure=settings.allow_insecure
        )

    schedule = RetrySchedule(scale=settings.retry_scale)
    return WebhookDeliverer(delivery_store(), event_payloads(), secret_service(), send, schedule)


def event_payloads() -> "EventPayloads":
    from shared.representations import EventPayloads

    return EventPayloads(prediction_store(), batch_store(), webhook_settings().api_base_url, download_url)


def batch_store() -> "DynamoBatchStore":
    from shared.adapters.dynamodb.batches import DynamoBatchStore

    stuck_after = timedelta(seconds=sweep_settings().stuck_after_seconds)
    return DynamoBatchStore(store_settings().table_name, dynamodb_client(), stuck_after)


def batch_files() -> "S3BatchFiles":
    from shared.adapters.s3.batch_files import S3BatchFiles

    return S3BatchFiles(bucket_settings().bucket_name, s3_client())


def download_url(key: str) -> str:
    """A short-lived presigned GET of a batch's result file."""
    return batch_files().presign_get(key, batch_settings().download_url_seconds)


def batch_steps() -> "SqsBatchSteps":
    from shared.adapters.sqs import SqsBatchSteps

    return SqsBatchSteps(batch_settings().batches_queue_url, sqs_client())


def batch_finalizer() -> "BatchFinalizer":
    from shared.batches.finalizer import BatchFinalizer

    return BatchFinalizer(batch_store(), batch_files(), webhooks_queue())


@cache
def batch_service() -> "BatchService":
    from shared.batches.service import BatchService

    return BatchService(
        batch_store(),
        batch_steps(),
        batch_finalizer(),
        model_registry(),
        upload_service(),
        cursor_codec(),
        timedelta(days=store_settings().retention_days),
        webhook_validation_settings().allow_insecure,
    )


@cache
def batch_validator() -> "BatchValidator":
    from shared.adapters.sqs import SqsChunkQueue
    from shared.batches.validation import BatchValidator, ValidationLimits

    settings = batch_settings()
    chunks = SqsChunkQueue(queue_settings().predictions_queue_url, sqs_client())
    limits = ValidationLimits(step_bytes=settings.step_bytes, chunk_lines=settings.chunk_lines)
    return BatchValidator(batch_store(), batch_files(), batch_steps(), chunks, batch_finalizer(), limits)


@cache
def batch_sweeper() -> "BatchSweeper":
    from shared.batches.sweeper import BatchSweeper

    settings = sweep_settings()
    stuck_after = timedelta(seconds=settings.stuck_after_seconds)
    return BatchSweeper(batch_store(), batch_steps(), stuck_after, settings.max_requeues)


@cache
def batch_recovery() -> "BatchRecovery":
    from shared.adapters.sqs import SqsChunkQueue
    from shared.batches.recovery import BatchRecovery

    chunks = SqsChunkQueue(queue_settings().predictions_queue_url, sqs_client())
    return BatchRecovery(batch_store(), batch_files(), batch_steps(), chunks, batch_finalizer())


@cache
def chunk_runner() -> "ChunkRunner":
    from shared.batches.runner import ChunkRunner

    return ChunkRunner(
        batch_store(),
        batch_files(),
        batch_steps(),
        model_registry(),
        runtime_loader(),
        schema_settings().chunk_validation_seconds,
    )


def reset_services() -> None:
    """Forget built services (tests switch settings and endpoints)."""
    from shared.adapters.secrets_manager import reset_secrets

    for factory in (
        model_registry,
        upload_service,
        model_registration,
        runtime_loader,
        inference_service,
        cursor_codec,
        key_service,
        rate_limiter,
        prediction_service,
        prediction_runner,
        sweeper,
        secret_service,
        delivery_queries,
        webhook_deliverer,
        batch_service,
        batch_validator,
        batch_sweeper,
        batch_recovery,
        chunk_runner,
    ):
        factory.cache_clear()
    reset_secrets()
