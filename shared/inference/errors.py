"""The inference use cases' errors, in a module of their own: the HTTP glue maps them to problems
without importing the use cases (and what they import) at every function's cold start."""

from shared.kernel.errors import BadRequestError, FieldError, InfergateError, InvalidRequestError
from shared.openai.errors import context_length_message, model_failed_message
from shared.runtimes.base import TIMEOUT, ModelFailure


class ModelUnavailableError(InfergateError):
    """The model version exists but cannot be served right now (503)."""

    def __init__(self) -> None:
        super().__init__("This model version is not available.")


class PredictionFailedError(InvalidRequestError):
    """The model could not produce an output for this input (422, with the model's code)."""

    def __init__(self, failure: ModelFailure, pointer: str = "/input") -> None:
        super().__init__(model_failed_message(failure.code, failure.message))
        self.code = failure.code
        self.errors = [FieldError(pointer, f"{failure.code}: {failure.message}")]


class InvalidInferRequestError(BadRequestError):
    """The infer request is not a well-formed OIP request (400)."""


class ModelTimeoutError(PredictionFailedError):
    """The model ran past the call's time budget and was stopped (422 ``timeout``): the same model and input
    would run as long again, so it is the request's outcome, not a fault of the service to retry."""


def prediction_failed(failure: ModelFailure, pointer: str = "/input") -> PredictionFailedError:
    """The error for a model's failure on one input: ``ModelTimeoutError`` when it ran out of time."""
    if failure.code == TIMEOUT:
        return ModelTimeoutError(failure, pointer)
    return PredictionFailedError(failure, pointer)


class InvalidEmbeddingsRequestError(InvalidRequestError):
    """An embeddings request that cannot be served as asked (422; 400 in OpenAI's shape), at ``pointer``."""

    def __init__(self, message: str, pointer: str) -> None:
        super().__init__(message)
        self.errors = [FieldError(pointer, message)]


class ContextLengthExceededError(InvalidRequestError):
    """A text longer than the embedding model takes (the embeddings API has no ``truncate``)."""

    def __init__(self, max_tokens: int, pointer: str) -> None:
        message = context_length_message(max_tokens, pointer)
        super().__init__(message)
        self.errors = [FieldError(pointer, message)]
