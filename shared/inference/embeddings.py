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
from shared.kernel import tracing
from shared.openai.embeddings import (
    NOT_TEXT_REFUSAL,
    TextsProblem,
    dimensions_message,
    embeddings_spec,
    not_embeddings_message,
    read_texts,
)
from shared.registry.models import ModelVersion
from shared.registry.text import TextSpec
from shared.runtimes.base import INPUT_TOO_LONG

__all__ = ["NOT_TEXT_REFUSAL", "Embedder", "Embeddings", "create_embeddings", "embedding_spec", "texts_of"]


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
    found = read_texts(value)
    if isinstance(found, TextsProblem):
        raise InvalidEmbeddingsRequestError(found.message, found.pointer)
    return found.texts, found.single


def embedding_spec(version: ModelVersion) -> TextSpec:
    """The version's text spec, if it makes embeddings."""
    spec = embeddings_spec(version)
    if spec is None:
        raise InvalidEmbeddingsRequestError(not_embeddings_message(version.name), "/model")
    return spec


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
        raise InvalidEmbeddingsRequestError(dimensions_message(version.name, spec.dimension), "/dimensions")
    runtime = service.runtime(version)
    if not isinstance(runtime, Embedder):  # a text version always loads a TextRuntime
        raise ModelUnavailableError()
    from shared.runtimes.text import TextInputError  # numpy: only where a model runs

    attributes: tracing.Attributes = {
        tracing.TENANT: tenant,
        tracing.MODEL: version.name,
        tracing.MODEL_VERSION: version.version,
    }
    try:
        with tracing.span(tracing.MODEL_CALL_SPAN, {**attributes, "infergate.inputs": len(texts)}):
            vectors, tokens = runtime.embed(texts, timeout=service.call_seconds)
    except TextInputError as exc:
        pointer = "/input" if single else f"/input/{exc.index}"
        if exc.failure.code == INPUT_TOO_LONG:
            raise ContextLengthExceededError(spec.max_tokens, pointer) from None
        raise prediction_failed(exc.failure, pointer) from None
    return Embeddings(version, vectors, tokens)
