"""Request and response bodies (pydantic v2). Conversions from domain objects live here too."""

from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from shared.batches.models import Batch
from shared.batches.service import NewBatch, NewOpenAiBatch
from shared.inference.service import SyncPrediction
from shared.kernel.jsoncodec import plain_json_problem
from shared.kernel.pagination import Page
from shared.keys.models import ApiKey, Scope
from shared.predictions.models import WebhookEvent
from shared.predictions.service import NewPrediction
from shared.registry.models import Model, ModelVersion
from shared.registry.registration import VersionRequest
from shared.registry.text import MAX_LABELS, MAX_TOKENS_CAP, Activation, Pooling, Task, TextOptions, TextSpec
from shared.representations import BatchOut, PredictionOut
from shared.webhooks.models import Delivery, DeliveryStatus


def _plain_json(value: dict[str, Any]) -> dict[str, Any]:
    """Refuse what JSON or our storage cannot carry: NaN/Infinity, lone surrogates, nesting over 64 levels."""
    problem = plain_json_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


JsonObject = Annotated[dict[str, Any], AfterValidator(_plain_json)]
MetadataValue = Annotated[str, Field(max_length=512)]
MetadataKey = Annotated[str, Field(min_length=1, max_length=64)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreatePredictionRequest(StrictModel):
    model: str = Field(max_length=80, examples=["sentiment", "sentiment:1"], description="`name` or `name:version`.")
    input: JsonObject = Field(description="Validated against the model version's `input_schema`; at most 256 KiB.")
    webhook: str | None = Field(
        default=None,
        max_length=2048,
        description="HTTPS URL that receives signed `prediction.started`/`prediction.completed` events "
        "(Standard Webhooks). Must resolve to public addresses only.",
        examples=["https://example.com/hooks/infergate"],
    )
    webhook_events_filter: list[WebhookEvent] = Field(
        default_factory=lambda: [WebhookEvent.COMPLETED], min_length=1, max_length=2
    )
    metadata: dict[MetadataKey, MetadataValue] = Field(default_factory=dict, max_length=16)

    def to_domain(self) -> NewPrediction:
        return NewPrediction(
            model=self.model,
            input=self.input,
            metadata=self.metadata,
            webhook=self.webhook,
            webhook_events_filter=tuple(dict.fromkeys(self.webhook_events_filter)),
        )


class PredictionList(BaseModel):
    results: list[PredictionOut]
    next: str | None = Field(description="Cursor of the next page, or null on the last page.")


def _printable(text: str) -> str:
    """Printable text only (``str.isprintable``): no NUL, tabs, line breaks or other control characters
    (Unicode Cc), no invisible format characters such as bidirectional overrides or zero-width joiners
    (Cf), no separators other than the plain space (Zs, Zl, Zp), no private-use or unassigned code
    points. A key's name is shown in listings, terminals and logs, where those would hide or forge text."""
    if not text.isprintable():
        raise ValueError("must be printable text: no control, format or invisible characters")
    if not text.strip():
        raise ValueError("must be printable text with at least one visible character, not only spaces")
    return text


class CreateKeyRequest(StrictModel):
    name: Annotated[str, AfterValidator(_printable)] = Field(
        min_length=1, max_length=100, description="A label for people: printable text, no control characters."
    )
    scopes: list[Scope] = Field(min_length=1, max_length=2)


class KeyOut(BaseModel):
    id: str = Field(examples=["key_01JD5YB4W3ZV0B4S8FZ7Q6N9XK"])
    name: str
    scopes: list[Scope]
    created_at: str
    last4: str

    @classmethod
    def of(cls, key: ApiKey) -> "KeyOut":
        return cls(id=key.id, name=key.name, scopes=sorted(key.scopes), created_at=key.created_at, last4=key.last4)


class CreatedKeyOut(BaseModel):
    id: str
    name: str
    scopes: list[Scope]
    key: str = Field(description="The secret. Shown once, never again.")
    created_at: str

    @classmethod
    def of(cls, key: ApiKey, secret: str) -> "CreatedKeyOut":
        return cls(id=key.id, name=key.name, scopes=sorted(key.scopes), key=secret, created_at=key.created_at)


class KeyList(BaseModel):
    results: list[KeyOut]
    next: str | None


class ArtifactOut(BaseModel):
    sha256: str
    size: int


class TextModelOut(BaseModel):
    """A text model's task, and what registration found in its archive."""

    task: Task
    max_tokens: int = Field(description="The longest input in tokens (special tokens included).")
    dimension: int | None = Field(description="The embedding's length (`feature-extraction`).")
    pooling: Pooling | None = Field(description="`mean` over the attention mask, `cls`, or `model` (the graph's).")
    normalize: bool | None = Field(description="Whether embeddings are L2-normalised.")
    activation: Activation | None = Field(description="`softmax` or `sigmoid` (`text-classification`).")
    top_k: int | None = Field(description="Labels returned when the input does not say (`text-classification`).")
    labels: list[str] | None = Field(description="The classifier's labels, from `config.json` `id2label`.")

    @classmethod
    def of(cls, spec: TextSpec) -> "TextModelOut":
        embeds = spec.task == "feature-extraction"
        return cls(
            task=spec.task,
            max_tokens=spec.max_tokens,
            dimension=spec.dimension,
            pooling=spec.pooling if embeds else None,
            normalize=spec.normalize if embeds else None,
            activation=None if embeds else spec.activation,
            top_k=None if embeds else spec.top_k,
            labels=None if embeds else list(spec.labels),
        )


class ModelVersionOut(BaseModel):
    version: int
    runtime: Literal["builtin", "onnx", "text"]
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    created_at: str
    artifact: ArtifactOut | None
    text: TextModelOut | None = Field(default=None, description="Set for a text model (`runtime` `text`).")

    @classmethod
    def of(cls, version: ModelVersion) -> "ModelVersionOut":
        artifact = version.artifact
        return cls(
            version=version.version,
            runtime=version.runtime,
            input_schema=version.input_schema,
            output_schema=version.output_schema,
            created_at=version.created_at,
            artifact=ArtifactOut(sha256=artifact.sha256, size=artifact.size) if artifact else None,
            text=TextModelOut.of(version.text) if version.text else None,
        )


class ModelOut(BaseModel):
    name: str
    description: str
    latest_version: int
    versions: list[ModelVersionOut]

    @classmethod
    def of(cls, model: Model, only: ModelVersion | None = None) -> "ModelOut":
        """The model with all its versions, or with ``only`` one of them (``GET /v1/models/name:3``)."""
        versions = [only] if only is not None else sorted(model.versions, key=lambda v: v.version)
        return cls(
            name=model.name,
            description=model.description,
            latest_version=model.latest.version,
            versions=[ModelVersionOut.of(v) for v in versions],
        )


class ModelList(BaseModel):
    results: list[ModelOut]


class TextOptionsIn(StrictModel):
    task: Task = Field(description="`feature-extraction` (embeddings) or `text-classification`.")
    pooling: Pooling = Field(
        default="mean",
        description="Feature extraction: `mean` over the attention mask, `cls` (first token), or `model` "
        "(the graph's output is already [batch, dimension]).",
    )
    normalize: bool = Field(default=False, description="Feature extraction: L2-normalise each embedding.")
    activation: Activation = Field(default="softmax", description="Classification: `softmax` or `sigmoid`.")
    top_k: int = Field(default=1, ge=1, le=MAX_LABELS, description="Classification: labels returned by default.")
    max_tokens: int | None = Field(
        default=None,
        ge=1,
        le=MAX_TOKENS_CAP,
        description="Lower the longest input the model's files allow (needed when they do not say).",
    )

    def to_domain(self) -> TextOptions:
        return TextOptions(
            task=self.task,
            pooling=self.pooling,
            normalize=self.normalize,
            activation=self.activation,
            top_k=self.top_k,
            max_tokens=self.max_tokens,
        )


class CreateModelVersionRequest(StrictModel):
    runtime: Literal["onnx", "text"] = Field(
        description="`onnx`: one `.onnx` file with your schemas; `text`: a `.tar.gz`/`.zip` of a tokenizer-bundled "
        "ONNX export (`model.onnx`, `tokenizer.json`, `config.json`) with its `text` task."
    )
    upload_id: str = Field(
        max_length=64, description="A `model_artifact` upload holding the `.onnx` file or the text model's archive."
    )
    input_schema: JsonObject | None = Field(
        default=None, description="JSON Schema (draft 2020-12) of one input object (`onnx`; derived for `text`)."
    )
    output_schema: JsonObject | None = Field(
        default=None, description="JSON Schema (draft 2020-12) of one output object (`onnx`; derived for `text`)."
    )
    text: TextOptionsIn | None = Field(default=None, description="The text model's task and options (`text` only).")
    description: str = Field(default="", max_length=1000)

    def to_domain(self) -> VersionRequest:
        return VersionRequest(
            runtime=self.runtime,
            upload_id=self.upload_id,
            input_schema=self.input_schema,
            output_schema=self.output_schema,
            description=self.description,
            text=self.text.to_domain() if self.text else None,
        )


class SyncPredictRequest(StrictModel):
    input: JsonObject = Field(description="Validated against the model version's `input_schema`; at most 256 KiB.")


class SyncMetricsOut(BaseModel):
    predict_time: float = Field(description="Seconds the model took.")


class SyncPredictionOut(BaseModel):
    model: str
    version: int
    output: dict[str, Any]
    metrics: SyncMetricsOut

    @classmethod
    def of(cls, result: SyncPrediction) -> "SyncPredictionOut":
        return cls(
            model=result.version.name,
            version=result.version.version,
            output=result.output,
            metrics=SyncMetricsOut(predict_time=result.predict_time),
        )


class HealthOut(BaseModel):
    status: Literal["ok"]
    version: str


class WebhookSecretOut(BaseModel):
    key: str = Field(description="The tenant's Standard Webhooks signing secret (`whsec_...`).")


class WebhookDeliveryOut(BaseModel):
    id: str = Field(
        description="Also the `webhook-id` header of every attempt.", examples=["dlv_01JD5YB4W3ZV0B4S8FZ7Q6N9XK"]
    )
    event: str = Field(examples=["prediction.completed"])
    url: str
    status: DeliveryStatus
    attempts: int
    last_attempt_at: str | None
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: str | None
    created_at: str

    @classmethod
    def of(cls, delivery: Delivery) -> "WebhookDeliveryOut":
        return cls(
            id=delivery.id,
            event=delivery.event.value,
            url=delivery.url,
            status=delivery.status,
            attempts=delivery.attempts,
            last_attempt_at=delivery.last_attempt_at,
            last_status_code=delivery.last_status_code,
            last_error=delivery.last_error,
            next_attempt_at=delivery.next_attempt_at,
            created_at=delivery.created_at,
        )


class WebhookDeliveryList(BaseModel):
    results: list[WebhookDeliveryOut]


class CreateBatchRequest(StrictModel):
    """Infergate's dialect: a model, and a file of `{"custom_id", "input"}` lines."""

    model: str = Field(max_length=80, examples=["sentiment", "sentiment:1"], description="`name` or `name:version`.")
    input_upload_id: str | None = Field(
        default=None,
        max_length=64,
        description="An upload of purpose `batch_input` whose JSONL file has arrived: one "
        '`{"custom_id": str, "input": {...}}` per line, at most 50,000 lines and 100 MB. '
        "Or name a file with `input_file_id` instead.",
    )
    input_file_id: str | None = Field(
        default=None, max_length=64, description="A file of purpose `batch` (`POST /v1/files`) in place of an upload."
    )
    webhook: str | None = Field(
        default=None,
        max_length=2048,
        description="HTTPS URL that receives a signed `batch.completed` event when the batch ends.",
    )
    metadata: dict[MetadataKey, MetadataValue] = Field(default_factory=dict, max_length=16)

    def to_domain(self) -> NewBatch:
        return NewBatch(
            model=self.model,
            input_upload_id=self.input_upload_id,
            webhook=self.webhook,
            metadata=self.metadata,
            input_file_id=self.input_file_id,
        )


class CreateOpenAiBatchRequest(StrictModel):
    """OpenAI's Batch API: a file of `{"custom_id", "method", "url", "body"}` lines; the model is the one
    they name (every line the same)."""

    input_file_id: str = Field(max_length=64, description="A file of purpose `batch` (`POST /v1/files`).")
    endpoint: str = Field(
        max_length=200,
        examples=["/v1/embeddings"],
        description="`/v1/embeddings`, the only endpoint a batch serves (any other: 400).",
    )
    completion_window: str = Field(max_length=16, examples=["24h"], description="`24h` (any other: 400).")
    metadata: dict[MetadataKey, MetadataValue] = Field(default_factory=dict, max_length=16)
    webhook: str | None = Field(
        default=None,
        max_length=2048,
        description="Infergate's extension (the openai SDK sends it with `extra_body`): an HTTPS URL that "
        "receives a signed `batch.completed` event when the batch ends.",
    )

    def to_domain(self) -> NewOpenAiBatch:
        return NewOpenAiBatch(
            input_file_id=self.input_file_id,
            endpoint=self.endpoint,
            completion_window=self.completion_window,
            metadata=self.metadata,
            webhook=self.webhook,
        )


class BatchList(BaseModel):
    """OpenAI's list object (page on with `after` = `last_id` while `has_more`), and Infergate's `next`."""

    object: Literal["list"] = "list"
    data: list[BatchOut] = Field(description="Newest first.")
    first_id: str | None
    last_id: str | None
    has_more: bool
    next: str | None = Field(description="Cursor of the next page (the `cursor` parameter), or null on the last page.")

    @classmethod
    def of(cls, page: Page[Batch], presign: Callable[[str], str]) -> "BatchList":
        data = [BatchOut.of(batch, presign) for batch in page.items]
        return cls(
            data=data,
            first_id=data[0].id if data else None,
            last_id=data[-1].id if data else None,
            has_more=page.next_cursor is not None,
            next=page.next_cursor,
        )
