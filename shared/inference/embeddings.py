"""The embeddings use case behind ``POST /v1/embeddings`` (OpenAI's embeddings API): texts in, one vector each.

The request is answered as a whole, as OpenAI answers it: every text is embedded, or the request fails
naming the first text that could not be. The texts run in one ``TextRuntime.embed`` call (sorted by length
into micro-batches inside the runtime) within the synchronous model-call limit (``ModelTimeSettings``).

What OpenAI refuses is refused here too, with a 400 in its shape (``shared.api.openai_errors``): an empty
string, a string that is not valid Unicode (a lone surrogate, as every other route refuses), an empty
list, more than ``MAX_TEXTS`` texts, a text over the model's maximum length (there is no ``truncate`` in
OpenAI's API, so none here), and ``dimensions`` a model cannot honour. Token arrays, which
OpenAI accepts, are refused: their ids come from OpenAI's own tokenizer (tiktoken), and this service's
models read text through their own tokenizers, so those ids mean nothing to them.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from shared.inference.errors import (
    ContextLengthExceededError,
    InvalidEmbeddingsRequestError,
    ModelUnavailableError,
    prediction_failed,
)
from shared.inference.service import InferenceService
from shared.kernel.jsoncodec import plain_json_problem
from shared.registry.models import ModelVersion
from shared.registry.text import MAX_TEXTS, TextSpec

NOT_TEXT_REFUSAL = (
    "'input' holds token ids: this service reads text with each model's own tokenizer, so ids counted with "
    "OpenAI's tokenizer mean nothing to its models. Send the texts as strings. LangChain's OpenAIEmbeddings "
    "sends token ids unless it is built with check_embedding_ctx_length=False (or the environment variable "
    "OPENAI_CHECK_EMBEDDING_CTX_LENGTH=false)."
)


@runtime_checkable
class Embedder(Protocol):
    """What a feature-extraction runtime offers a request answered as a whole (``TextRuntime``)."""

    def embed(
        self, texts: Sequence[str], *, truncate: bool = False, timeout: float | None = None
    ) -> tuple[list[list[float]], list[int]]: ...


@dataclass(frozen=True)
class Embeddings:
    """One vector per text, in the request's order, and the tokens each text gave (special tokens included)."""

    version: ModelVersion
    vectors: list[list[float]]
    tokens: list[int]

    @property
    def model(self) -> str:
        """The version that made them, as a reference the API takes back (``name:version``)."""
        return f"{self.version.name}:{self.version.version}"


def texts_of(value: object) -> tuple[list[str], bool]:
    """The texts of ``input`` (a string or a list of strings) and whether it was a single string."""
    if isinstance(value, str):
        texts, single = [value], True
    elif isinstance(value, list):
        if any(not isinstance(item, str) for item in value):
            if all(_is_token_array(item) or _is_token(item) for item in value):
                raise InvalidEmbeddingsRequestError(NOT_TEXT_REFUSAL, "/input")
            raise InvalidEmbeddingsRequestError("'input' must be a string or a list of strings.", "/input")
        if not value:
            raise InvalidEmbeddingsRequestError("'input' must hold at least one text.", "/input")
        if len(value) > MAX_TEXTS:
            message = f"'input' may hold at most {MAX_TEXTS} texts; this request has {len(value)}."
            raise InvalidEmbeddingsRequestError(message, "/input")
        texts, single = list(value), False
    else:
        raise InvalidEmbeddingsRequestError("'input' must be a string or a list of strings.", "/input")
    for index, text in enumerate(texts):
        if not text:
            if single:
                raise InvalidEmbeddingsRequestError("'input' cannot be an empty string.", "/input")
            message = f"'input' cannot hold an empty string: /input/{index} is empty."
            raise InvalidEmbeddingsRequestError(message, f"/input/{index}")
        problem = plain_json_problem(text)  # a lone surrogate: what the predict route refuses too
        if problem is not None:
            pointer = "/input" if single else f"/input/{index}"
            raise InvalidEmbeddingsRequestError(f"{pointer} {problem}.", pointer)
    return texts, single


def _is_token(item: object) -> bool:
    return isinstance(item, int) and not isinstance(item, bool)


def _is_token_array(item: object) -> bool:
    return isinstance(item, list) and all(_is_token(token) for token in item)


def embedding_spec(version: ModelVersion) -> TextSpec:
    """The version's text spec, if it makes embeddings."""
    if version.runtime != "text" or version.text is None or version.text.task != "feature-extraction":
        message = f"Model '{version.name}' does not make embeddings: use a text model of task feature-extraction."
        raise InvalidEmbeddingsRequestError(message, "/model")
    return version.text


def create_embeddings(
    service: InferenceService, tenant: str, model: str, value: object, dimensions: int | None = None
) -> Embeddings:
    """Embed every text of ``value`` with ``model`` (``name`` or ``name:version``, the tenant's or a built-in).

    ``dimensions`` is honoured only where the model allows it: the registry records no shortening
    (Matryoshka) support, so only the model's own dimension is accepted.
    """
    texts, single = texts_of(value)
    version = service.resolve(tenant, model)
    spec = embedding_spec(version)
    if dimensions is not None and dimensions != spec.dimension:
        message = (
            f"Model '{version.name}' does not support shortening embeddings: 'dimensions' must be "
            f"{spec.dimension} (its dimension) or left out."
        )
        raise InvalidEmbeddingsRequestError(message, "/dimensions")
    runtime = service.runtime(version)
    if not isinstance(runtime, Embedder):  # a text version always loads a TextRuntime
        raise ModelUnavailableError()
    from shared.runtimes.text import INPUT_TOO_LONG, TextInputError  # numpy: only where a model runs

    try:
        vectors, tokens = runtime.embed(texts, timeout=service.call_seconds)
    except TextInputError as exc:
        pointer = "/input" if single else f"/input/{exc.index}"
        if exc.failure.code == INPUT_TOO_LONG:
            raise ContextLengthExceededError(spec.max_tokens, pointer) from None
        raise prediction_failed(exc.failure, pointer) from None
    return Embeddings(version, vectors, tokens)
