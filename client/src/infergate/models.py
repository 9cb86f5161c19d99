"""The API's answers as pydantic models.

Permissive on purpose: unknown members are kept (``extra="allow"``) and statuses are plain strings, so a
newer server's additions never break an older client.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict

PREDICTION_TERMINAL = frozenset({"succeeded", "failed", "canceled"})
BATCH_FINAL = frozenset({"completed", "failed", "expired", "cancelled"})


class ApiModel(BaseModel):
    """The base of every answer: extra members kept, never refused."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class ProblemFieldError(ApiModel):
    pointer: str
    detail: str


class Problem(ApiModel):
    """An RFC 9457 problem document."""

    type: str = "about:blank"
    title: str = ""
    status: int = 0
    detail: str = ""
    instance: str = ""
    errors: list[ProblemFieldError] | None = None


class PredictionError(ApiModel):
    code: str
    message: str


class PredictionMetrics(ApiModel):
    predict_time: float | None = None
    total_time: float | None = None


class PredictionUrls(ApiModel):
    get: str
    cancel: str


class Prediction(ApiModel):
    """An asynchronous prediction."""

    id: str
    model: str
    version: int
    status: str
    input: dict[str, Any]
    output: dict[str, Any] | None = None
    error: PredictionError | None = None
    metadata: dict[str, str] = {}
    webhook: str | None = None
    webhook_events_filter: list[str] = []
    created_at: str
    started_at: str | None = None
    completed_at: str | None = None
    metrics: PredictionMetrics = PredictionMetrics()
    urls: PredictionUrls | None = None

    @property
    def is_terminal(self) -> bool:
        """``succeeded``, ``failed`` or ``canceled``: it will not change any more."""
        return self.status in PREDICTION_TERMINAL


class Artifact(ApiModel):
    sha256: str
    size: int


class TextModel(ApiModel):
    """A text model's task and what registration found in its archive."""

    task: str
    max_tokens: int
    dimension: int | None = None
    pooling: str | None = None
    normalize: bool | None = None
    activation: str | None = None
    top_k: int | None = None
    labels: list[str] | None = None


class ModelVersion(ApiModel):
    """One immutable version of a model."""

    version: int
    runtime: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    created_at: str
    artifact: Artifact | None = None
    text: TextModel | None = None


class Model(ApiModel):
    """A model of the registry and its versions."""

    name: str
    description: str = ""
    latest_version: int
    versions: list[ModelVersion] = []


class SyncMetrics(ApiModel):
    predict_time: float


class SyncPrediction(ApiModel):
    """The answer of the synchronous ``POST /v1/models/{name}/predict``."""

    model: str
    version: int
    output: dict[str, Any]
    metrics: SyncMetrics


class Upload(ApiModel):
    """An upload and the presigned ``PUT`` its file goes to."""

    id: str
    bytes: int
    purpose: str
    status: str
    url: str | None = None
    method: str | None = None
    headers: dict[str, str] | None = None


class RequestCounts(ApiModel):
    total: int = 0
    completed: int = 0
    failed: int = 0


class BatchError(ApiModel):
    code: str
    message: str
    param: str | None = None
    line: int | None = None


class BatchErrors(ApiModel):
    data: list[BatchError] = []


class Batch(ApiModel):
    """A batch (OpenAI's batch object with Infergate's members). Times are Unix seconds."""

    id: str
    status: str
    model: str
    version: int
    request_counts: RequestCounts = RequestCounts()
    errors: BatchErrors | None = None
    metadata: dict[str, str] = {}
    created_at: int
    completed_at: int | None = None
    failed_at: int | None = None
    cancelled_at: int | None = None
    expired_at: int | None = None
    input_upload_id: str | None = None
    input_file_id: str | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None
    output_url: str | None = None
    errors_url: str | None = None
    webhook: str | None = None

    @property
    def is_final(self) -> bool:
        """``completed``, ``failed``, ``expired`` or ``cancelled``: it will not change any more."""
        return self.status in BATCH_FINAL


class Key(ApiModel):
    """An API key, without its secret."""

    id: str
    name: str
    scopes: list[str]
    created_at: str
    last4: str


class CreatedKey(Key):
    """A new API key: ``key`` is its secret, shown this once."""

    key: str
    last4: str = ""


class WebhookSecret(ApiModel):
    """The tenant's Standard Webhooks signing secret (``whsec_...``)."""

    key: str


class TextOptions(ApiModel):
    """A text model's task and options, for ``models.push`` of an archive."""

    model_config = ConfigDict(extra="forbid")

    task: str
    pooling: str | None = None
    normalize: bool | None = None
    activation: str | None = None
    top_k: int | None = None
    max_tokens: int | None = None


class Page(ApiModel):
    """One page of a list: its items (``results`` or ``data``) and the cursor of the next (``next``)."""

    results: list[dict[str, Any]] | None = None
    data: list[dict[str, Any]] | None = None
    next: str | None = None

    @property
    def items(self) -> list[dict[str, Any]]:
        return self.results if self.results is not None else (self.data or [])
