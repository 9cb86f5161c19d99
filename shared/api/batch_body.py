"""The body of ``POST /v1/batches``, in either dialect, told apart by its fields.

OpenAI's (``input_file_id``, ``endpoint``, ``completion_window``, ``metadata``) when it has ``endpoint`` or
``completion_window``, or ``input_file_id`` without ``model``; Infergate's (``model`` and an upload or a
file) otherwise. The request is marked ``request.state.openai_dialect`` before the body is validated, so
a refused OpenAI body is answered as OpenAI answers it (400), a native one as before (422).
"""

import json
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from shared.api.dialect import mark_openai_dialect
from shared.api.schemas import CreateBatchRequest, CreateOpenAiBatchRequest

OPENAI_FIELDS = frozenset({"endpoint", "completion_window"})
INPUT_FIELDS = frozenset({"input_upload_id", "input_file_id"})  # a native body names its input with one

CreateBatchBody = CreateBatchRequest | CreateOpenAiBatchRequest


def is_openai_body(body: object) -> bool:
    if not isinstance(body, dict):
        return False
    return bool(OPENAI_FIELDS & body.keys()) or ("input_file_id" in body and "model" not in body)


async def create_batch_body(request: Request) -> CreateBatchBody:
    """The validated body, in its dialect (FastAPI's errors, as a body parameter would raise them)."""
    try:
        data = await request.json()
    except json.JSONDecodeError as bad:  # as FastAPI reports an unparseable body (a duplicate key too)
        error = {"type": "json_invalid", "loc": ("body", bad.pos), "msg": "JSON decode error", "input": {}}
        raise RequestValidationError([{**error, "ctx": {"error": bad.msg}}], body=bad.doc) from bad
    except (ValueError, RecursionError) as unreadable:  # not UTF-8, nested too deeply: as FastAPI answers it
        raise HTTPException(status_code=400) from unreadable
    model: type[CreateBatchRequest] | type[CreateOpenAiBatchRequest] = CreateBatchRequest
    if is_openai_body(data):
        mark_openai_dialect(request)
        model = CreateOpenAiBatchRequest
    errors: list[Any] = []
    try:
        body = model.model_validate(data)
    except ValidationError as invalid:
        errors = [{**error, "loc": ("body", *error["loc"])} for error in invalid.errors()]
    if isinstance(data, dict) and model is CreateBatchRequest and not INPUT_FIELDS & data.keys():
        errors.append({"type": "missing", "loc": ("body", "input_upload_id"), "msg": "Field required", "input": data})
    if errors:
        raise RequestValidationError(errors, body=data)
    return body


def create_batch_body_schema() -> dict[str, Any]:
    """The OpenAPI request body: one of the two dialects' bodies."""
    schemas = [CreateBatchRequest.model_json_schema(), CreateOpenAiBatchRequest.model_json_schema()]
    return {"required": True, "content": {"application/json": {"schema": {"oneOf": schemas}}}}
