"""OpenAI-dialect batches through the real handlers on moto: create from a file, lines of several texts,
validation per line, per-line failures, cancel, idempotent create, the ``batch.completed`` webhook.

The tests' tiny text model (``tests.support.text_models``: 32 tokens at most, 8 dimensions) is stored as
registration stores it; a small step (4 KiB) and chunk (20 lines) make continuation and counting happen.
An output line's body must be what ``POST /v1/embeddings`` answers for the same body, errors included.
"""

import base64
import json
from typing import Any

import numpy as np
import pytest

from shared.adapters.clients import dynamodb_client, s3_client
from shared.batches.models import BatchDialect, BatchStatus
from shared.kernel.ids import IdKind, is_valid_id
from shared.settings import BucketSettings, StoreSettings, settings
from shared.wiring import batch_service, batch_store, delivery_store
from tests.conftest import Credential
from tests.support.batch_queues import TENANT, deliver, jsonl, pump, receive, validated_with_chunks_held
from tests.support.events import bearer, response_json
from tests.support.example_text_model import EMBEDDING_MODEL, store_example_text_model
from tests.support.gateway import call
from tests.support.openai_batches import input_file, line, result_files
from tests.support.text_models import MAX_POSITIONS, token_count
from tools.provision import Stack

TOO_LONG = "the cat sat on the mat " * 6  # 36 words: over the model's 32 tokens
REFUSED = 400  # OpenAI's status for a refused OpenAI-dialect body on the routes both dialects share


@pytest.fixture(autouse=True)
def small_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BATCH_STEP_BYTES", "4096")
    monkeypatch.setenv("BATCH_CHUNK_LINES", "20")


@pytest.fixture
def embedder(stack: Stack) -> str:
    places = settings(StoreSettings).table_name, settings(BucketSettings).bucket_name, dynamodb_client(), s3_client()
    store_example_text_model(TENANT, *places)
    return EMBEDDING_MODEL


def _texts(n: int) -> str | list[str]:
    if n % 3 == 0:
        return ["the cat sat", f"a dog ran {'!' * (n % 5)}", "hello world"]
    return f"good news {'.' * (n % 4)}"


def _lines(model: str, count: int) -> list[dict[str, Any]]:
    return [line(f"c-{n}", _texts(n), model) for n in range(1, count + 1)]


def _create(secret: str, file_id: str, headers: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    body = {"input_file_id": file_id, "endpoint": "/v1/embeddings", "completion_window": "24h", **extra}
    return call("POST", "/v1/batches", body=body, headers={**bearer(secret), **(headers or {})})


def _created(secret: str, file_id: str, **extra: Any) -> str:
    response = _create(secret, file_id, **extra)
    assert response["statusCode"] == 201, response_json(response)
    batch_id: str = response_json(response)["id"]
    return batch_id


def _route(secret: str, body: dict[str, Any]) -> tuple[int, Any]:
    answer = call("POST", "/v1/embeddings", body=body, headers=bearer(secret))
    return answer["statusCode"], response_json(answer)


def test_an_openai_batch_runs_lines_of_several_texts_and_answers_each_as_the_embeddings_route_does(
    stack: Stack, admin: Credential, embedder: str
) -> None:
    # Given 45 lines, some of three texts, one in base64, one with a text longer than the model takes
    lines = _lines(embedder, 45)
    lines[19]["body"]["encoding_format"] = "base64"
    lines[16]["body"]["input"] = ["the cat", TOO_LONG, "a dog"]
    assert token_count(TOO_LONG) > MAX_POSITIONS
    file_id = input_file(jsonl(lines))

    # When the batch is created over HTTP and both queues run it
    created = _create(admin.secret, file_id, metadata={"set": "docs"})
    assert created["statusCode"] == 201, response_json(created)
    batch_id = response_json(created)["id"]
    progress = [(completed, failed) for _, completed, failed in pump(stack, batch_id)]

    # Then it completes with every custom_id in exactly one file, only the long text's line failed
    batch = batch_store().get(TENANT, batch_id)
    assert (batch.status, batch.dialect, batch.endpoint, batch.input_file_id) == (
        BatchStatus.COMPLETED,
        BatchDialect.OPENAI,
        "/v1/embeddings",
        file_id,
    )
    assert (batch.model, batch.version, batch.metadata) == (embedder, 1, {"set": "docs"})
    assert batch.output_file_id is not None
    assert is_valid_id(IdKind.FILE, batch.output_file_id)
    assert batch.error_file_id is not None
    assert is_valid_id(IdKind.FILE, batch.error_file_id)
    assert batch.output_file_id != batch.error_file_id
    assert (batch.counts.total, batch.counts.completed, batch.counts.failed) == (45, 44, 1)
    assert progress == sorted(progress)
    outputs, errors = result_files(batch_id)
    assert sorted(row["custom_id"] for row in outputs + errors) == sorted(row["custom_id"] for row in lines)
    assert len({row["id"] for row in outputs + errors}) == 45
    assert all(row["error"] is None and row["response"]["status_code"] == 200 for row in outputs)
    assert all(row["id"].startswith("batch_req_") for row in outputs + errors)

    # And each output's body is what POST /v1/embeddings answers for that body (floats within 1e-6)
    by_id = {row["custom_id"]: row for row in outputs}
    for sent in (lines[0], lines[2], lines[19]):
        status, answer = _route(admin.secret, sent["body"])
        assert status == 200
        body = by_id[sent["custom_id"]]["response"]["body"]
        assert {k: v for k, v in body.items() if k != "data"} == {k: v for k, v in answer.items() if k != "data"}
        assert [(d["object"], d["index"]) for d in body["data"]] == [(d["object"], d["index"]) for d in answer["data"]]
        for mine, theirs in zip(body["data"], answer["data"], strict=True):
            np.testing.assert_allclose(_vector(mine["embedding"]), _vector(theirs["embedding"]), atol=1e-6)
    assert isinstance(by_id["c-20"]["response"]["body"]["data"][0]["embedding"], str)  # base64, as asked
    assert len(by_id["c-3"]["response"]["body"]["data"]) == 3

    # And the failed line holds the route's own error answer for its body
    [failed] = errors
    status, answer = _route(admin.secret, lines[16]["body"])
    assert failed["custom_id"] == "c-17"
    assert failed["error"] is None
    assert (failed["response"]["status_code"], failed["response"]["body"]) == (status, answer)
    assert answer["error"]["code"] == "context_length_exceeded"
    assert answer["error"]["param"] == "input"


def _vector(embedding: list[float] | str) -> Any:
    if isinstance(embedding, str):
        return np.frombuffer(base64.b64decode(embedding), dtype="<f4")
    return np.asarray(embedding)


def test_lines_that_are_not_valid_fail_the_batch_at_validation_each_with_its_line_and_param(
    stack: Stack, admin: Credential, embedder: str
) -> None:
    lines: list[Any] = _lines(embedder, 60)
    lines[2]["url"] = "/v1/chat/completions"  # an endpoint a batch does not serve
    lines[4]["method"] = "GET"
    lines[6]["url"] = "/v1/completions"
    lines[8]["body"]["input"] = []
    lines[10]["body"]["model"] = f"{embedder}:1"  # the same model, named otherwise: OpenAI's rule is the string
    lines[44]["body"]["dimensions"] = 0  # in a later validation step
    batch_id = _created(admin.secret, input_file(jsonl(lines)))

    list(pump(stack, batch_id))

    batch = batch_store().get(TENANT, batch_id)
    assert batch.status is BatchStatus.FAILED
    assert [(p.line, p.code, p.param) for p in batch.errors] == [
        (3, "invalid_url", "url"),
        (5, "invalid_method", "method"),
        (7, "invalid_url", "url"),
        (9, "invalid_body", "body.input"),
        (11, "mismatched_model", "body.model"),
        (45, "invalid_body", "body.dimensions"),
    ]
    assert "a batch serves only /v1/embeddings" in batch.errors[0].message
    assert (batch.counts.total, batch.ran_chunks, batch.output_key) == (0, frozenset(), None)
    assert receive(stack, "PredictionsQueue") == []


@pytest.mark.parametrize(
    ("extra", "first", "pointer", "says"),
    [
        ({"endpoint": "/v1/chat/completions"}, None, "/endpoint", "A batch serves only /v1/embeddings"),
        ({"completion_window": "1h"}, None, "/completion_window", "completion_window must be 24h"),
        ({}, b'{"custom_id": "a", "method": "POST", "url": "/v1/responses", "body": {}}', "/input_file_id", "Line 1"),
        ({}, b"\n\nnot json", "/input_file_id", "Line 3 of the input file"),
        ({}, b"", "/input_file_id", "The file has no lines."),
    ],
)
def test_a_create_the_batch_cannot_serve_is_refused_naming_the_field(
    stack: Stack,
    admin: Credential,
    embedder: str,
    extra: dict[str, Any],
    first: bytes | None,
    pointer: str,
    says: str,
) -> None:
    data = first if first is not None else jsonl(_lines(embedder, 3))

    response = _create(admin.secret, input_file(data), **extra)

    problem = response_json(response)
    assert response["statusCode"] == REFUSED, problem
    assert [error["pointer"] for error in problem["errors"]] == [pointer]
    assert says in problem["detail"]
    assert batch_service().list(TENANT, 10, None).items == []


def test_a_model_the_lines_name_that_does_not_exist_is_404_and_one_that_does_not_embed_is_refused(
    stack: Stack, admin: Credential, embedder: str
) -> None:
    unknown = _create(admin.secret, input_file(jsonl(_lines("no-such-model", 2))))
    not_embeddings = _create(admin.secret, input_file(jsonl(_lines("sentiment", 2))))
    unknown_file = _create(admin.secret, "file_01JD5YB4W3ZV0B4S8FZ7Q6N9XK")

    assert (unknown["statusCode"], response_json(unknown)["type"]) == (404, "urn:infergate:problem:not-found")
    assert "no-such-model" in response_json(unknown)["detail"]
    refused = response_json(not_embeddings)
    assert (not_embeddings["statusCode"], refused["errors"][0]["pointer"]) == (REFUSED, "/input_file_id")
    assert "cannot serve /v1/embeddings" in refused["detail"]
    assert unknown_file["statusCode"] == REFUSED
    assert response_json(unknown_file)["errors"][0]["pointer"] == "/input_file_id"


def test_a_native_batch_can_name_its_input_by_file_id(stack: Stack, admin: Credential) -> None:
    native = [{"custom_id": f"n-{n}", "input": {"text": "A wonderful day!"}} for n in range(5)]
    body = {"model": "sentiment", "input_file_id": input_file(jsonl(native))}

    created = call("POST", "/v1/batches", body=body, headers=bearer(admin.secret))
    list(pump(stack, response_json(created)["id"]))

    batch = batch_store().get(TENANT, response_json(created)["id"])
    assert (created["statusCode"], batch.dialect, batch.status) == (201, BatchDialect.INFERGATE, BatchStatus.COMPLETED)
    outputs, _ = result_files(batch.id)
    assert sorted(row["custom_id"] for row in outputs) == [f"n-{n}" for n in range(5)]
    assert all(set(row) == {"custom_id", "output"} for row in outputs)


def test_the_same_idempotency_key_returns_the_batch_and_another_body_conflicts(
    stack: Stack, admin: Credential, embedder: str
) -> None:
    file_id = input_file(jsonl(_lines(embedder, 5)))
    key = {"idempotency-key": "openai-1"}

    first = _create(admin.secret, file_id, headers=key)
    again = _create(admin.secret, file_id, headers=key)
    other = _create(admin.secret, file_id, metadata={"x": "y"}, headers=key)

    assert (first["statusCode"], again["statusCode"], other["statusCode"]) == (201, 201, 409)
    assert response_json(again)["id"] == response_json(first)["id"]
    assert [b.id for b in batch_service().list(TENANT, 10, None).items] == [response_json(first)["id"]]
    assert len(receive(stack, "BatchesQueue")) == 1


def test_cancel_keeps_the_lines_that_ran_and_writes_the_rest_as_never_run(
    stack: Stack, admin: Credential, embedder: str
) -> None:
    lines = _lines(embedder, 100)
    batch_id = _created(admin.secret, input_file(jsonl(lines)))
    chunks = validated_with_chunks_held(stack, batch_id)
    deliver(stack, "PredictionsQueue", chunks[:2])
    ran = json.loads(chunks[2]["Body"])["first_line"] - 1  # the lines of the two chunks that ran

    batch_service().cancel(TENANT, batch_id)
    deliver(stack, "PredictionsQueue", chunks[2:])
    list(pump(stack, batch_id))

    batch = batch_store().get(TENANT, batch_id)
    assert batch.status.is_final
    assert batch.status is not BatchStatus.COMPLETED
    assert ran >= 20
    assert (batch.counts.total, batch.counts.completed, batch.counts.failed) == (100, ran, 100 - ran)
    outputs, errors = result_files(batch_id)
    assert [row["custom_id"] for row in outputs] == [row["custom_id"] for row in lines[:ran]]
    assert [row["custom_id"] for row in errors] == [row["custom_id"] for row in lines[ran:]]
    assert {row["response"] is None for row in errors} == {True}
    assert errors[0]["error"] == {"code": "batch_cancelled", "message": "The batch was canceled before this line ran."}


def test_an_openai_batch_with_a_webhook_writes_one_batch_completed_delivery(
    stack: Stack, admin: Credential, embedder: str
) -> None:
    batch_id = _created(admin.secret, input_file(jsonl(_lines(embedder, 10))), webhook="https://hooks.example.com/b")

    list(pump(stack, batch_id))

    assert batch_store().get(TENANT, batch_id).status is BatchStatus.COMPLETED
    deliveries = delivery_store().list_for_prediction(TENANT, batch_id)
    assert [d.event.value for d in deliveries] == ["batch.completed"]


def test_a_batch_whose_input_file_is_deleted_before_it_is_read_fails_at_once_saying_so(
    stack: Stack, admin: Credential, embedder: str
) -> None:
    file_id = input_file(jsonl(_lines(embedder, 5)))
    batch_id = _created(admin.secret, file_id)
    deleted = call("DELETE", f"/v1/files/{file_id}", headers=bearer(admin.secret))
    assert deleted["statusCode"] == 200, deleted

    list(pump(stack, batch_id))  # every delivery succeeds: nothing is left for redelivery

    batch = batch_store().get(TENANT, batch_id)
    assert batch.status is BatchStatus.FAILED
    assert [(p.line, p.code) for p in batch.errors] == [(0, "input_file_missing")]
    assert receive(stack, "BatchesQueue") == []
