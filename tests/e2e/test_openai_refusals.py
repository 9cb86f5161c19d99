"""Refusals of the Files, Uploads and Batch routes through the real ``openai`` SDK: a wrong key, a rate limit
and a conflicting idempotent create are raised as the SDK's own classes (``AuthenticationError``,
``RateLimitError``, ``ConflictError``), with OpenAI's ``error`` object the SDK reads its ``code`` from, on
the pure OpenAI routes (``/v1/files``) and on the routes both dialects share (``/v1/uploads``,
``/v1/batches``)."""

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from openai import OpenAI

from tests.e2e.conftest import LocalStack, mint_key, running_stack

pytestmark = pytest.mark.e2e

TENANT = "e2e-refusals"


@pytest.fixture(scope="module")
def limited_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A stack whose keys may send 3 requests at once and one every 100 s after that."""
    settings = {"RATE_LIMIT_PER_SECOND": "0.01", "RATE_LIMIT_BURST": "3", "TENANT_RATE_LIMIT_PER_SECOND": "0"}
    with running_stack(Path(tmp_path_factory.mktemp("limited")), settings) as stack:
        yield stack


def _sdk(stack: LocalStack, key: str) -> OpenAI:
    return OpenAI(base_url=stack.base_url + "/v1", api_key=key, max_retries=0)


def _jsonl_file(sdk: OpenAI) -> str:
    line = b'{"custom_id": "a", "method": "POST", "url": "/v1/embeddings", "body": {"model": "m", "input": "x"}}\n'
    return sdk.files.create(file=("refusals.jsonl", line), purpose="batch").id


CALLS: dict[str, Callable[[OpenAI], Any]] = {
    "files.list": lambda sdk: sdk.files.list(),
    "uploads.create": lambda sdk: sdk.uploads.create(
        purpose="batch", filename="a.jsonl", bytes=10, mime_type="application/jsonl"
    ),
    "batches.list": lambda sdk: sdk.batches.list(),
}


@pytest.mark.parametrize("call", CALLS)
def test_a_wrong_key_is_the_sdk_s_authentication_error(local_stack: LocalStack, call: str) -> None:
    sdk = _sdk(local_stack, "igk_" + "x" * 43)

    with pytest.raises(openai.AuthenticationError) as refused:
        CALLS[call](sdk)

    assert refused.value.status_code == 401
    assert refused.value.code == "invalid_api_key"


@pytest.mark.parametrize("call", CALLS)
def test_over_its_rate_limit_a_key_gets_the_sdk_s_rate_limit_error(limited_stack: LocalStack, call: str) -> None:
    sdk = _sdk(limited_stack, mint_key(limited_stack, f"{TENANT}-{call.replace('.', '-')}", "predict"))

    for _ in range(3):  # the burst
        CALLS[call](sdk)
    with pytest.raises(openai.RateLimitError) as refused:
        CALLS[call](sdk)

    assert refused.value.status_code == 429
    assert refused.value.code == "rate_limit_exceeded"
    assert int(refused.value.response.headers["retry-after"]) >= 1


def test_an_idempotency_key_reused_for_another_batch_is_the_sdk_s_conflict_error(local_stack: LocalStack) -> None:
    sdk = _sdk(local_stack, mint_key(local_stack, TENANT, "predict"))
    first, second = _jsonl_file(sdk), _jsonl_file(sdk)
    reused = {"Idempotency-Key": "refusals-reused-key"}

    with pytest.raises(openai.NotFoundError) as unknown:  # the first line names a model that does not exist
        sdk.batches.create(input_file_id=first, endpoint="/v1/embeddings", completion_window="24h")
    assert unknown.value.code == "model_not_found"
    native: dict[str, Any] = {"model": "echo", "input_file_id": first}
    created = sdk.post("/batches", body=native, cast_to=dict, options={"headers": reused})
    replayed = sdk.post("/batches", body=native, cast_to=dict, options={"headers": reused})
    with pytest.raises(openai.ConflictError) as refused:
        sdk.post("/batches", body={**native, "input_file_id": second}, cast_to=dict, options={"headers": reused})

    assert replayed["id"] == created["id"]
    assert refused.value.status_code == 409
    document = refused.value.response.json()  # a problem document carrying OpenAI's error, which the SDK read
    assert set(document) >= {"type", "title", "status", "detail", "error"}
    assert refused.value.body == document["error"]
    assert refused.value.message == f"Error code: 409 - {document['error']['message']}"
