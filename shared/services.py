"""Composition root: builds each service once per container from settings and lazy AWS clients."""

from collections.abc import Mapping
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared.aws import dynamodb_client, lambda_client, s3_client, sqs_client
from shared.inference.service import InferenceService
from shared.keys.service import KeyService
from shared.pagination import CursorCodec
from shared.predictions.models import Prediction
from shared.predictions.runner import PredictionRunner
from shared.predictions.service import PredictionService
from shared.predictions.sweeper import Sweeper
from shared.predictions.transitions import Transitions
from shared.queue.sqs import SqsDeliveryQueue, SqsPredictionQueue
from shared.ratelimit.models import RateLimit
from shared.ratelimit.service import RateLimiter
from shared.registry.registration import ModelRegistration
from shared.registry.service import ModelRegistry
from shared.runtimes.artifacts import ArtifactFiles
from shared.runtimes.loader import RuntimeLoader
from shared.settings import (
    bucket_settings,
    cursor_settings,
    inspector_settings,
    queue_settings,
    rate_limit_settings,
    runtime_settings,
    store_settings,
    sweep_settings,
    webhook_settings,
    webhook_validation_settings,
)
from shared.store.deliveries import DynamoDeliveryStore
from shared.store.inspector import LambdaArtifactInspector
from shared.store.keys import DynamoKeyStore
from shared.store.models import DynamoModelStore
from shared.store.objects import S3ObjectStore
from shared.store.predictions import DynamoPredictionStore
from shared.store.ratelimits import DynamoRateLimitStore
from shared.store.secrets import reset_secrets, secret_bytes
from shared.store.uploads import DynamoUploadStore
from shared.uploads.service import UploadService
from shared.webhooks.schedule import RetrySchedule
from shared.webhooks.service import DeliveryQueries, SecretService, WebhookDeliverer

if TYPE_CHECKING:
    from shared.webhooks.http import DeliveryResponse


def model_store() -> DynamoModelStore:
    return DynamoModelStore(store_settings().table_name, dynamodb_client())


@cache
def model_registry() -> ModelRegistry:
    return ModelRegistry(model_store())


def object_store() -> S3ObjectStore:
    return S3ObjectStore(bucket_settings().bucket_name, s3_client())


@cache
def upload_service() -> UploadService:
    lifetime = timedelta(seconds=bucket_settings().upload_url_seconds)
    return UploadService(
        DynamoUploadStore(store_settings().table_name, dynamodb_client()),
        object_store(),
        lifetime,
        timedelta(days=store_settings().retention_days),
    )


@cache
def model_registration() -> ModelRegistration:
    inspector = LambdaArtifactInspector(inspector_settings().inspector_function_name, lambda_client())
    return ModelRegistration(model_registry(), model_store(), upload_service(), inspector)


@cache
def runtime_loader() -> RuntimeLoader:
    settings = runtime_settings()
    files = ArtifactFiles(object_store(), Path(settings.model_dir))
    return RuntimeLoader(files, max_sessions=settings.max_sessions, max_bytes=settings.max_bytes)


@cache
def cursor_codec() -> CursorCodec:
    def secret() -> bytes:  # read on use: only listing functions hold the secret's permission
        settings = cursor_settings()
        return secret_bytes(settings.cursor_secret_arn, settings.cursor_secret_max_age_seconds)

    return CursorCodec(secret)


@cache
def rate_limiter() -> RateLimiter:
    settings = rate_limit_settings()
    limit = RateLimit(settings.per_second, settings.burst) if settings.per_second > 0 else None
    return RateLimiter(DynamoRateLimitStore(store_settings().table_name, dynamodb_client()), limit)


@cache
def key_service() -> KeyService:
    return KeyService(DynamoKeyStore(store_settings().table_name, dynamodb_client()), cursor_codec())


@cache
def inference_service() -> InferenceService:
    return InferenceService(model_registry(), runtime_loader())


def prediction_store() -> DynamoPredictionStore:
    stuck_after = timedelta(seconds=sweep_settings().stuck_after_seconds)
    return DynamoPredictionStore(store_settings().table_name, dynamodb_client(), stuck_after)


@cache
def sweeper() -> Sweeper:
    settings = sweep_settings()
    queue = SqsPredictionQueue(queue_settings().predictions_queue_url, sqs_client())
    store = prediction_store()
    stuck_after = timedelta(seconds=settings.stuck_after_seconds)
    return Sweeper(store, store, transitions(), queue, stuck_after, settings.max_requeues)


def transitions() -> Transitions:
    return Transitions(prediction_store(), SqsDeliveryQueue(queue_settings().webhooks_queue_url, sqs_client()))


@cache
def prediction_service() -> PredictionService:
    queue = SqsPredictionQueue(queue_settings().predictions_queue_url, sqs_client())
    retention = timedelta(days=store_settings().retention_days)
    allow_insecure = webhook_validation_settings().allow_insecure
    return PredictionService(
        prediction_store(), transitions(), queue, model_registry(), cursor_codec(), retention, allow_insecure
    )


@cache
def prediction_runner() -> PredictionRunner:
    return PredictionRunner(prediction_store(), transitions(), model_registry(), runtime_loader())


def delivery_store() -> DynamoDeliveryStore:
    return DynamoDeliveryStore(store_settings().table_name, dynamodb_client())


@cache
def secret_service() -> SecretService:
    return SecretService(delivery_store())


@cache
def delivery_queries() -> DeliveryQueries:
    return DeliveryQueries(delivery_store(), prediction_store())


def webhooks_queue() -> SqsDeliveryQueue:
    return SqsDeliveryQueue(queue_settings().webhooks_queue_url, sqs_client())


def webhooks_dead_letters() -> SqsDeliveryQueue:
    return SqsDeliveryQueue(webhook_settings().webhooks_dlq_url, sqs_client())


@cache
def webhook_deliverer() -> WebhookDeliverer:
    from shared.api.schemas import PredictionOut  # the webhook's data is the prediction as GET returns it
    from shared.webhooks.http import post_webhook

    settings = webhook_settings()

    def send(url: str, body: bytes, headers: Mapping[str, str]) -> "DeliveryResponse":
        return post_webhook(
            url, body, headers, timeout_seconds=settings.timeout_seconds, allow_insecure=settings.allow_insecure
        )

    def render(prediction: Prediction) -> dict[str, Any]:
        return PredictionOut.of(prediction, settings.api_base_url).model_dump(mode="json")

    schedule = RetrySchedule(scale=settings.retry_scale)
    return WebhookDeliverer(delivery_store(), prediction_store(), secret_service(), send, render, schedule)


def reset_services() -> None:
    """Forget built services (tests switch settings and endpoints)."""
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
    ):
        factory.cache_clear()
    reset_secrets()
