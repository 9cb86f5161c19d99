"""Configuration, one pydantic model (group) per concern, read from the environment on first use.

Nothing here runs at import time: a group's validator is built when it is first read (``defer_build``),
and reading is pydantic validating the variables its fields name (``validation_alias``), nothing more.
pydantic-settings did the same with its sources, CLI and dotenv machinery, about 15 ms of every cold
start (docs/performance.md, section 1). ``settings(StoreSettings)`` reads one group once per container and
returns the same object after: a function reads only the groups it uses, so a variable of a group it
does not use may be missing from its environment. Each variable is read by exactly one group (a unit
test checks). ``shared.wiring.reset()`` forgets what was read (tests change the environment).
"""

import os
from typing import Literal, Self, TypeVar, cast

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.kernel.call_policies import WEBHOOK
from shared.kernel.container import on_forget


class SettingsGroup(BaseModel):
    """Base of every group: immutable once read."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    @classmethod
    def from_environment(cls) -> Self:
        """The group from the variables its fields name; a missing one takes the field's default, an empty
        one is a value (and fails a ``min_length``), anything else in the environment is ignored."""
        names = [field.validation_alias for field in cls.model_fields.values()]
        return cls.model_validate(
            {name: os.environ[name] for name in names if isinstance(name, str) and name in os.environ}
        )


class StoreSettings(SettingsGroup):
    """Where state lives: the single DynamoDB table and how long predictions are retained."""

    table_name: str = Field(validation_alias="TABLE_NAME", min_length=1)
    retention_days: int = Field(default=7, ge=1, le=3650, validation_alias="RETENTION_DAYS")


class QueueSettings(SettingsGroup):
    """The SQS queue that feeds the inference worker."""

    predictions_queue_url: str = Field(validation_alias="PREDICTIONS_QUEUE_URL", min_length=1)
    webhooks_queue_url: str = Field(validation_alias="WEBHOOKS_QUEUE_URL", min_length=1)


class CursorSettings(SettingsGroup):
    """The secret that authenticates pagination cursors (Secrets Manager, read through Powertools)."""

    cursor_secret_arn: str = Field(validation_alias="CURSOR_SECRET_ARN", min_length=1)
    cursor_secret_max_age_seconds: int = Field(default=300, ge=0, validation_alias="CURSOR_SECRET_MAX_AGE")


class ApiSettings(SettingsGroup):
    """Knobs of the HTTP API itself."""

    # API Gateway cuts integrations at 30 s, so a `Prefer: wait` is held at most this long.
    max_wait_seconds: float = Field(default=20.0, gt=0, le=25, validation_alias="MAX_WAIT_SECONDS")
    wait_poll_interval_seconds: float = Field(default=0.25, gt=0, le=5, validation_alias="WAIT_POLL_INTERVAL")


class WebhookSettings(SettingsGroup):
    """Delivery of webhooks (which URLs it may reach: ``WebhookUrlSettings``)."""

    api_base_url: str = Field(validation_alias="API_BASE_URL", min_length=1)
    # One attempt's whole deadline (shared.kernel.call_policies); tests shorten it, never deployments lengthen it.
    timeout_seconds: float = Field(
        default=WEBHOOK.deadline_seconds, gt=0, le=WEBHOOK.deadline_seconds, validation_alias="WEBHOOK_TIMEOUT_SECONDS"
    )
    retry_scale: float = Field(default=1.0, gt=0, le=1, validation_alias="WEBHOOK_RETRY_SCALE")


class TracingSettings(SettingsGroup):
    """Distributed tracing (template parameters ``Tracing`` and ``TracingEndpoint``): off unless ``On``."""

    tracing: Literal["On", "Off"] = Field(default="Off", validation_alias="TRACING")
    # The OTLP/HTTP traces endpoint, e.g. http://localhost:4318/v1/traces (a collector extension).
    endpoint: str = Field(default="", validation_alias="TRACING_ENDPOINT")

    @model_validator(mode="after")
    def _endpoint_when_on(self) -> Self:
        if self.on and not self.endpoint.startswith(("http://", "https://")):
            raise ValueError("TRACING=On needs TRACING_ENDPOINT, an http(s) URL of an OTLP/HTTP traces endpoint")
        return self

    @property
    def on(self) -> bool:
        return self.tracing == "On"


class WebhookDeadLetterSettings(SettingsGroup):
    """Where webhook deliveries park after their last attempt (delivery and the operator's redrive)."""

    webhooks_dlq_url: str = Field(validation_alias="WEBHOOKS_DLQ_URL", min_length=1)


class DeadLetterSettings(SettingsGroup):
    """The predictions and batches dead-letter queues (operator commands only: the workers never read them)."""

    predictions_dlq_url: str = Field(validation_alias="PREDICTIONS_DLQ_URL", min_length=1)
    batches_dlq_url: str = Field(validation_alias="BATCHES_DLQ_URL", min_length=1)


class WebhookUrlSettings(SettingsGroup):
    """Which webhook URLs the API accepts and delivery reaches. ``allow_insecure`` (http and loopback
    receivers) is for the local stack only."""

    allow_insecure: bool = Field(default=False, validation_alias="WEBHOOKS_ALLOW_INSECURE")


class BucketSettings(SettingsGroup):
    """The S3 bucket of uploads and model artifacts."""

    bucket_name: str = Field(validation_alias="BUCKET_NAME", min_length=1)
    upload_url_seconds: int = Field(default=3600, ge=60, le=43200, validation_alias="UPLOAD_URL_SECONDS")


class RuntimeSettings(SettingsGroup):
    """Where model files are kept in the container (downloaded ones, and the built-in text models' shipped
    folders), and how many loaded models may stay in memory."""

    model_dir: str = Field(default="/tmp/infergate-models", validation_alias="MODEL_DIR")  # noqa: S108 - Lambda's disk
    # The built-in text models' folders (<dir>/<name>/): where Lambda extracts the EmbeddingModelLayer's models/.
    builtin_models_dir: str = Field(default="/opt/models", validation_alias="BUILTIN_MODELS_DIR")
    max_sessions: int = Field(default=8, ge=1, le=256, validation_alias="MODEL_CACHE_MAX_SESSIONS")
    max_bytes: int = Field(default=1024 * 1024 * 1024, ge=1, validation_alias="MODEL_CACHE_MAX_BYTES")


class ModelTimeSettings(SettingsGroup):
    """How long one model call may run before a watchdog stops it, per caller; the one place for these numbers.

    Each fits its function's timeout with room for the rest of the work (a contract test checks them
    against template.yaml): PredictModel answers well before API Gateway's 30 s; the worker (60 s) starts
    a model call only while a whole call and ``worker_reserve_seconds`` (writing its results) still fit;
    the inspector (25 s) runs a registered model once on a generated example.
    """

    predict_seconds: float = Field(default=20.0, gt=0, le=25, validation_alias="MODEL_PREDICT_SECONDS")
    worker_seconds: float = Field(default=20.0, gt=0, le=50, validation_alias="MODEL_WORKER_SECONDS")
    worker_reserve_seconds: float = Field(default=5.0, ge=0, le=30, validation_alias="MODEL_WORKER_RESERVE_SECONDS")
    registration_seconds: float = Field(default=10.0, gt=0, le=15, validation_alias="MODEL_REGISTRATION_SECONDS")


class SchemaSettings(SettingsGroup):
    """How long checking inputs against a tenant's JSON Schema may take: the net under the step budget of
    ``shared.registry.schemas``, which ends a costly evaluation well before this on its own.

    ``evaluation_seconds`` bounds one input (sync routes, ``CreatePrediction``, one batch line): with the
    20 s model call it stays within PredictModel's timeout. ``chunk_validation_seconds`` bounds all the
    lines of one batch chunk; it is part of the chunk's time limit (``MODEL_WORKER_SECONDS``), and the
    model call gets what is left, so a chunk never outlasts the worker's budget for it.
    """

    evaluation_seconds: float = Field(default=3.0, gt=0, le=5, validation_alias="SCHEMA_EVALUATION_SECONDS")
    chunk_validation_seconds: float = Field(
        default=10.0, gt=0, le=20, validation_alias="BATCH_CHUNK_VALIDATION_SECONDS"
    )


class InspectorSettings(SettingsGroup):
    """The function that loads an uploaded model file before its version is registered."""

    inspector_function_name: str = Field(validation_alias="INSPECTOR_FUNCTION_NAME", min_length=1)


class SweepSettings(SettingsGroup):
    """When an unfinished prediction or batch counts as stuck (no progress for that long), and how often the
    sweeper re-queues (resumes) it before failing it (what is left of it) with ``timeout``."""

    stuck_after_seconds: int = Field(default=900, ge=1, le=86_400, validation_alias="SWEEP_AFTER_SECONDS")
    max_requeues: int = Field(default=2, ge=0, le=20, validation_alias="SWEEP_MAX_REQUEUES")


class RateLimitSettings(SettingsGroup):
    """Requests per second (sustained) and burst per API key and per tenant; a rate of 0 turns that limit off."""

    per_second: float = Field(default=50.0, ge=0, le=100_000, validation_alias="RATE_LIMIT_PER_SECOND")
    burst: int = Field(default=100, ge=1, le=1_000_000, validation_alias="RATE_LIMIT_BURST")
    tenant_per_second: float = Field(default=50.0, ge=0, le=100_000, validation_alias="TENANT_RATE_LIMIT_PER_SECOND")
    tenant_burst: int = Field(default=100, ge=1, le=1_000_000, validation_alias="TENANT_RATE_LIMIT_BURST")


class JwtClaimSettings(SettingsGroup):
    """How the claims of a verified JWT name its tenant and scopes (the template's ``Jwt*`` parameters).

    Read only when a request arrives through the JWT-authorized API; the issuer and audiences are API
    Gateway's own configuration, never the functions'.
    """

    tenant_claim: str = Field(default="tenant", min_length=1, validation_alias="JWT_TENANT_CLAIM")
    scopes_claim: str = Field(default="scope", min_length=1, validation_alias="JWT_SCOPES_CLAIM")
    predict_scope: str = Field(
        default="infergate/predict", min_length=1, pattern=r"^\S+$", validation_alias="JWT_PREDICT_SCOPE"
    )
    admin_scope: str = Field(
        default="infergate/admin", min_length=1, pattern=r"^\S+$", validation_alias="JWT_ADMIN_SCOPE"
    )


class KeySettings(SettingsGroup):
    """How many active API keys a tenant may hold (revoking one frees a slot)."""

    max_keys_per_tenant: int = Field(default=200, ge=1, le=100_000, validation_alias="MAX_KEYS_PER_TENANT")


class BatchSettings(SettingsGroup):
    """The batches queue, how batch files are read, how long their download URLs work, and the completion
    window: how long a batch may run before it ends ``expired``."""

    batches_queue_url: str = Field(validation_alias="BATCHES_QUEUE_URL", min_length=1)
    download_url_seconds: int = Field(default=3600, ge=60, le=43200, validation_alias="DOWNLOAD_URL_SECONDS")
    step_bytes: int = Field(default=16 * 1024 * 1024, ge=1024, validation_alias="BATCH_STEP_BYTES")
    chunk_lines: int = Field(default=100, ge=1, le=1000, validation_alias="BATCH_CHUNK_LINES")
    # OpenAI's only window, "24h", for batches of both dialects; tests shorten it.
    completion_window_seconds: int = Field(
        default=86_400, ge=1, le=86_400, validation_alias="BATCH_COMPLETION_WINDOW_SECONDS"
    )


G = TypeVar("G", bound=SettingsGroup)

_read: dict[type[SettingsGroup], SettingsGroup] = {}


def settings(group: type[G]) -> G:
    """The group's settings, read from the environment on first use and kept for the container's life."""
    found = _read.get(group)
    if found is None:  # two threads may both read it; both get the first one stored
        found = _read.setdefault(group, group.from_environment())
    return cast(G, found)  # keyed by the value's own class


on_forget(_read.clear)
