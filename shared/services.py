"""Composition root: builds each service once per container from settings and lazy AWS clients."""

from datetime import timedelta
from functools import cache

from shared.aws import dynamodb_client, sqs_client
from shared.keys.service import KeyService
from shared.pagination import CursorCodec
from shared.predictions.runner import PredictionRunner
from shared.predictions.service import PredictionService
from shared.predictions.transitions import Transitions
from shared.queue.sqs import SqsDeliveryQueue, SqsPredictionQueue
from shared.registry.service import ModelRegistry
from shared.runtimes.loader import load_runtime
from shared.settings import cursor_settings, queue_settings, store_settings
from shared.store.keys import DynamoKeyStore
from shared.store.predictions import DynamoPredictionStore
from shared.store.secrets import reset_secrets, secret_bytes


@cache
def model_registry() -> ModelRegistry:
    return ModelRegistry()


@cache
def cursor_codec() -> CursorCodec:
    def secret() -> bytes:  # read on use: only listing functions hold the secret's permission
        settings = cursor_settings()
        return secret_bytes(settings.cursor_secret_arn, settings.cursor_secret_max_age_seconds)

    return CursorCodec(secret)


@cache
def key_service() -> KeyService:
    return KeyService(DynamoKeyStore(store_settings().table_name, dynamodb_client()), cursor_codec())


def prediction_store() -> DynamoPredictionStore:
    return DynamoPredictionStore(store_settings().table_name, dynamodb_client())


def transitions() -> Transitions:
    return Transitions(prediction_store(), SqsDeliveryQueue(queue_settings().webhooks_queue_url, sqs_client()))


@cache
def prediction_service() -> PredictionService:
    queue = SqsPredictionQueue(queue_settings().predictions_queue_url, sqs_client())
    retention = timedelta(days=store_settings().retention_days)
    return PredictionService(prediction_store(), transitions(), queue, model_registry(), cursor_codec(), retention)


@cache
def prediction_runner() -> PredictionRunner:
    return PredictionRunner(prediction_store(), transitions(), model_registry(), load_runtime)


def reset_services() -> None:
    """Forget built services (tests switch settings and endpoints)."""
    for factory in (model_registry, cursor_codec, key_service, prediction_service, prediction_runner):
        factory.cache_clear()
    reset_secrets()
