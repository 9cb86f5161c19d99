"""Open Inference Protocol infer: tensors in, the model's per-example JSON interface, tensors out.

A request's tensors are split along their first dimension into one JSON object per example, each
validated against the version's input schema, run in one runtime call (as the worker's micro-batches
are), and stacked back into the version's output tensors. A text version's tensors are declared
(``TextSpec``): its input is exactly ``text`` (BYTES, one string per row), ``truncate`` is a request
parameter, and each output row is mapped from the JSON output by the spec. A text request holds at most
``MAX_TEXTS`` rows (as ``/v1/embeddings``), refused before any is tokenised.
"""

import zlib
from typing import Any

from shared.inference.errors import InvalidInferRequestError, prediction_failed
from shared.inference.service import InferenceService
from shared.oip.codec import (
    InferRequest,
    bool_parameter,
    encode_infer_response,
    parse_header_length,
    parse_infer_request,
    select_outputs,
)
from shared.oip.rows import check_inputs, rows_from_tensors, tensors_from_rows
from shared.oip.tensors import OipError
from shared.registry.models import ModelRef, ModelVersion
from shared.registry.text import MAX_TEXTS, TEXT_TENSOR, TRUNCATE_PARAMETER
from shared.runtimes.base import ModelFailure, Unfinished, settled

MAX_DECOMPRESSED_BYTES = 8 * 1024 * 1024
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


def decoded_body(body: bytes, content_encoding: str | None) -> bytes:
    """The body as sent before ``Content-Encoding`` (gzip or deflate, as tritonclient may compress it)."""
    encoding = (content_encoding or "identity").strip().lower()
    if encoding == "identity":
        return body
    if encoding not in _WBITS:
        raise InvalidInferRequestError("Content-Encoding must be gzip, deflate or identity.")
    inflater = zlib.decompressobj(_WBITS[encoding])
    try:
        plain = inflater.decompress(body, MAX_DECOMPRESSED_BYTES + 1)
    except zlib.error:
        raise InvalidInferRequestError(f"The body is not valid {encoding} data.") from None
    if len(plain) > MAX_DECOMPRESSED_BYTES or inflater.unconsumed_tail:
        raise InvalidInferRequestError(f"The decompressed body is larger than {MAX_DECOMPRESSED_BYTES} bytes.")
    return plain


def infer(
    service: InferenceService,
    tenant: str,
    model_name: str,
    model_version: str | None,
    body: bytes,
    header_length: str | None,
    content_encoding: str | None = None,
) -> tuple[bytes, dict[str, str]]:
    """The response body and headers; domain errors (404, 400, 413, 422, 503) propagate."""
    version = service.resolve_ref(tenant, ModelRef.of_parts(model_name, model_version))
    plain = decoded_body(body, content_encoding)
    try:
        request = parse_infer_request(plain, parse_header_length(header_length))
        examples = _examples(version, request)
    except OipError as exc:
        raise InvalidInferRequestError(str(exc)) from None
    for index, example in enumerate(examples):
        service.validate(version, example, pointer=f"/inputs/{index}")
    results, _ = service.run(version, examples, tenant=tenant)
    stopped = next((result for result in results if isinstance(result, Unfinished)), None)
    if stopped is not None:  # the examples ran out of time together: the request as a whole timed out
        raise prediction_failed(stopped.as_failure(), pointer="/inputs")
    outputs = []
    for index, result in enumerate(map(settled, results)):
        if isinstance(result, ModelFailure):
            raise prediction_failed(result, pointer=f"/inputs/{index}")
        outputs.append(result)
    if version.text is not None:
        outputs = [version.text.tensor_row(output) for output in outputs]
    try:  # outputs the codec cannot carry (too many elements, ragged, mixed) answer this request, not a 500
        selected, binary = select_outputs(request, tensors_from_rows(outputs, version.outputs))
    except OipError as exc:
        raise InvalidInferRequestError(str(exc)) from None
    return encode_infer_response(version.name, str(version.version), request.id, selected, binary)


def _examples(version: ModelVersion, request: InferRequest) -> list[dict[str, Any]]:
    """One JSON input per example: the tensors' rows, or for a text version its ``text`` rows and ``truncate``."""
    if version.text is None:
        return rows_from_tensors(request.inputs)
    if any(tensor.name == TRUNCATE_PARAMETER for tensor in request.inputs):
        raise OipError(f"Send {TRUNCATE_PARAMETER!r} as a request parameter, not as an input tensor.")
    check_inputs(request.inputs, version.inputs)
    truncate = bool_parameter(request.parameters, TRUNCATE_PARAMETER, "The request", default=False)
    texts = next(tensor for tensor in request.inputs if tensor.name == TEXT_TENSOR)
    if len(texts.data) > MAX_TEXTS:  # refused before any text is tokenised, as /v1/embeddings refuses it
        raise OipError(f"Input {TEXT_TENSOR!r} may hold at most {MAX_TEXTS} texts; this request has {len(texts.data)}.")
    return [version.text.tensor_example(text, truncate) for text in texts.data]
