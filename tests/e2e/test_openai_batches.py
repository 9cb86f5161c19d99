"""An embeddings batch over the local stack, driven by OpenAI's own Python SDK with only ``base_url`` and
``api_key`` changed: ``files.create`` -> ``batches.create`` -> ``batches.retrieve`` until final ->
``files.content`` of the output and error files; and the refusals, raised as the SDK's own classes.

1,000 lines, every seventh of three texts, every fiftieth with a text longer than the tiny model takes (it
fails at run time, on its own line, with the route's ``context_length_exceeded`` answer).
"""

import json
import time
from typing import Any

import numpy as np
import openai
import pytest
from openai import OpenAI

from tests.e2e.conftest import LocalStack
from tests.support import text_models

pytestmark = pytest.mark.e2e

MODEL = "e2e-batch-embed"
LINES = 1_000
TOO_LONG = "the cat sat on the mat " * 6  # over the tiny model's 32 tokens
FINAL = {"completed", "failed", "cancelled", "expired"}


@pytest.fixture(scope="module")
def registered(local_stack: LocalStack) -> str:
    return text_models.register_over_http(local_stack.client(local_stack.admin_key), MODEL)


@pytest.fixture(scope="module")
def client(local_stack: LocalStack) -> OpenAI:
    return OpenAI(base_url=local_stack.base_url + "/v1", api_key=local_stack.admin_key, max_retries=0)


def _line(n: int, model: str) -> dict[str, Any]:
    texts: str | list[str] = f"hello world {n}" if n % 7 else ["the cat", f"a dog ran {n}", "good news"]
    if n % 50 == 0:
        texts = ["the cat", TOO_LONG]
    body = {"model": model, "input": texts, "encoding_format": "float"}
    return {"custom_id": f"doc-{n}", "method": "POST", "url": "/v1/embeddings", "body": body}


def _jsonl(lines: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(line).encode() + b"\n" for line in lines)


def _rows(client: OpenAI, file_id: str | None) -> list[dict[str, Any]]:
    assert file_id is not None
    return [json.loads(row) for row in client.files.content(file_id).text.splitlines()]


def test_the_openai_sdk_runs_a_thousand_line_embeddings_batch(client: OpenAI, registered: str) -> None:
    lines = [_line(n, registered) for n in range(1, LINES + 1)]
    uploaded = client.files.create(file=("corpus.jsonl", _jsonl(lines)), purpose="batch")

    batch = client.batches.create(
        input_file_id=uploaded.id, endpoint="/v1/embeddings", completion_window="24h", metadata={"run": "e2e"}
    )
    deadline = time.monotonic() + 600
    while batch.status not in FINAL and time.monotonic() < deadline:
        time.sleep(1)
        batch = client.batches.retrieve(batch.id)

    assert batch.status == "completed", batch
    assert batch.request_counts is not None
    failing = LINES // 50
    assert (batch.request_counts.total, batch.request_counts.completed, batch.request_counts.failed) == (
        LINES,
        LINES - failing,
        failing,
    )
    outputs, errors = _rows(client, batch.output_file_id), _rows(client, batch.error_file_id)
    assert sorted(row["custom_id"] for row in outputs + errors) == sorted(line["custom_id"] for line in lines)
    assert [row["custom_id"] for row in errors] == [f"doc-{n}" for n in range(50, LINES + 1, 50)]
    assert {row["response"]["status_code"] for row in errors} == {400}
    assert {row["response"]["body"]["error"]["code"] for row in errors} == {"context_length_exceeded"}
    assert {row["response"]["status_code"] for row in outputs} == {200}

    # the output's vectors are the embeddings route's for the same body
    seventh = next(row for row in outputs if row["custom_id"] == "doc-7")
    direct = client.embeddings.create(model=registered, input=lines[6]["body"]["input"], encoding_format="float")
    assert len(seventh["response"]["body"]["data"]) == 3
    for mine, theirs in zip(seventh["response"]["body"]["data"], direct.data, strict=True):
        np.testing.assert_allclose(mine["embedding"], theirs.embedding, atol=1e-6)


def test_the_refusals_are_the_sdk_s_own_exceptions(client: OpenAI, registered: str) -> None:
    good = client.files.create(file=("ok.jsonl", _jsonl([_line(1, registered)])), purpose="batch")
    unknown_model = client.files.create(file=("m.jsonl", _jsonl([_line(1, "no-such-model")])), purpose="batch")

    with pytest.raises(openai.BadRequestError) as endpoint:
        client.batches.create(input_file_id=good.id, endpoint="/v1/chat/completions", completion_window="24h")
    with pytest.raises(openai.BadRequestError) as window:
        client.batches.create(
            input_file_id=good.id,
            endpoint="/v1/embeddings",
            completion_window="1h",  # type: ignore[arg-type]  # the SDK's type allows only 24h; the API refuses others
        )
    with pytest.raises(openai.BadRequestError) as no_file:
        client.batches.create(
            input_file_id="file_01JD5YB4W3ZV0B4S8FZ7Q6N9XK", endpoint="/v1/embeddings", completion_window="24h"
        )
    with pytest.raises(openai.NotFoundError) as no_model:
        client.batches.create(input_file_id=unknown_model.id, endpoint="/v1/embeddings", completion_window="24h")

    assert "/v1/embeddings" in endpoint.value.message
    assert "24h" in window.value.message
    assert (endpoint.value.param, window.value.param, no_file.value.param) == (
        "endpoint",
        "completion_window",
        "input_file_id",
    )
    assert no_model.value.code == "model_not_found"
