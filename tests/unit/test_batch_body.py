"""The body of POST /v1/batches: its dialect is told by its fields, and an OpenAI body is marked before it is
validated (so its refusal can be answered as OpenAI answers it)."""

import asyncio
import json
from typing import Any

import pytest
from fastapi.exceptions import RequestValidationError

from shared.api.batch_body import create_batch_body
from shared.api.jsonbody import StrictJsonRequest
from shared.api.schemas import CreateBatchRequest, CreateOpenAiBatchRequest


def _request(body: Any) -> StrictJsonRequest:
    raw = json.dumps(body).encode()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": raw, "more_body": False}

    scope = {"type": "http", "method": "POST", "path": "/v1/batches", "headers": [], "query_string": b""}
    return StrictJsonRequest(scope, receive)


def _read(body: Any) -> tuple[Any, bool]:
    request = _request(body)
    try:
        parsed: Any = asyncio.run(create_batch_body(request))
    except RequestValidationError as refused:
        parsed = refused
    return parsed, getattr(request.state, "openai_dialect", False)


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (
            {"input_file_id": "file_1", "endpoint": "/v1/embeddings", "completion_window": "24h"},
            CreateOpenAiBatchRequest,
        ),
        ({"model": "m", "input_upload_id": "upl_1"}, CreateBatchRequest),
        ({"model": "m", "input_file_id": "file_1"}, CreateBatchRequest),
    ],
)
def test_each_dialect_s_body_is_read_as_its_own(body: dict[str, Any], kind: type) -> None:
    parsed, marked = _read(body)

    assert isinstance(parsed, kind)
    assert marked is (kind is CreateOpenAiBatchRequest)


@pytest.mark.parametrize(
    ("body", "marked", "pointer"),
    [
        ({"input_file_id": "file_1", "endpoint": "/v1/embeddings"}, True, ("body", "completion_window")),
        ({"input_file_id": "file_1"}, True, ("body", "endpoint")),
        ({"completion_window": "24h", "model": "m"}, True, ("body", "input_file_id")),
        ({"endpoint": "/v1/embeddings", "input_file_id": "f", "completion_window": "24h", "x": 1}, True, ("body", "x")),
        ({"model": "m"}, False, ("body", "input_upload_id")),
        ({"model": "m", "input_upload_id": "u", "x": 1}, False, ("body", "x")),
        (["not", "an", "object"], False, ("body",)),
    ],
)
def test_a_refused_body_is_marked_openai_only_in_openai_s_dialect(
    body: Any, marked: bool, pointer: tuple[str, ...]
) -> None:
    parsed, was_marked = _read(body)

    assert isinstance(parsed, RequestValidationError)
    assert was_marked is marked
    assert pointer in [tuple(error["loc"]) for error in parsed.errors()]
