"""``models.push`` and ``batches.*``: uploads PUT to presigned URLs (no API key), registration, results streamed."""

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from infergate import Batch, BatchNotFinished, BatchTimeout, Forbidden

from tests.client.conftest import Naps
from tests.client.fakes import FakeApi, batch, ok, problem

PRESIGNED = "http://s3.test/bucket/upl_1?X-Amz-Signature=abc"
SCHEMAS: dict[str, Any] = {"input_schema": {"type": "object"}, "output_schema": {"type": "object"}}


def _uploads(api: FakeApi, put: httpx.Response | None = None) -> FakeApi:
    def created(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        headers = {"Content-Type": body["content_type"], "Content-Length": str(body["size"])}
        answer = {"id": "upl_1", "bytes": body["size"], "purpose": body["purpose"], "status": "pending"}
        return ok(answer | {"url": PRESIGNED, "method": "PUT", "headers": headers}, 201)

    return api.on("POST", "/v1/uploads", created).on("PUT", PRESIGNED.split("?")[0], put or httpx.Response(200))


def _version(**extra: Any) -> dict[str, Any]:
    return {"version": 1, "runtime": "onnx", "input_schema": {}, "output_schema": {}, "created_at": "t"} | extra


def test_push_uploads_the_file_and_registers_it_as_an_onnx_version(tmp_path: Path) -> None:
    model = tmp_path / "model.onnx"
    model.write_bytes(b"\x08\x07onnx-bytes" * 1000)
    api = _uploads(FakeApi()).on("POST", "/v1/models/mine/versions", ok(_version(), 201))

    version = api.client().models.push("mine", model, description="mine", **SCHEMAS)

    upload, put, register = api.requests
    assert json.loads(upload.content) == {
        "purpose": "model_artifact",
        "content_type": "application/octet-stream",
        "size": model.stat().st_size,
    }
    assert put.content == model.read_bytes()
    assert put.headers["content-type"] == "application/octet-stream"
    assert put.headers["content-length"] == str(model.stat().st_size)
    assert "transfer-encoding" not in put.headers
    assert "authorization" not in put.headers
    assert json.loads(register.content) == {"upload_id": "upl_1", "description": "mine", "runtime": "onnx", **SCHEMAS}
    assert version.version == 1


def test_push_of_an_archive_registers_a_text_model_with_its_options(tmp_path: Path) -> None:
    archive = tmp_path / "model.zip"
    archive.write_bytes(b"PK\x03\x04...")
    api = _uploads(FakeApi()).on("POST", "/v1/models/embedder/versions", ok(_version(runtime="text"), 201))

    api.client().models.push(
        "embedder", archive, text={"task": "feature-extraction", "pooling": "mean", "normalize": True}
    )

    upload, _, register = api.requests
    assert json.loads(upload.content)["content_type"] == "application/zip"
    assert json.loads(register.content)["text"] == {"task": "feature-extraction", "pooling": "mean", "normalize": True}
    assert json.loads(register.content)["runtime"] == "text"


def test_push_of_gzip_bytes_is_sent_as_gzip() -> None:
    api = _uploads(FakeApi()).on("POST", "/v1/models/embedder/versions", ok(_version(runtime="text"), 201))

    api.client().models.push("embedder", b"\x1f\x8b\x08rest", text={"task": "text-classification", "top_k": 2})

    assert json.loads(api.requests[0].content)["content_type"] == "application/gzip"


def test_push_without_schemas_or_text_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    model = tmp_path / "model.onnx"
    model.write_bytes(b"x")
    api = FakeApi()

    with pytest.raises(ValueError, match="input_schema"):
        api.client().models.push("mine", model)

    assert api.requests == []


def test_a_registration_is_not_retried_on_503() -> None:
    api = _uploads(FakeApi()).on("POST", "/v1/models/mine/versions", problem(503))

    with pytest.raises(Exception, match="503"):
        api.client().models.push("mine", b"onnx", **SCHEMAS)

    assert len(api.sent("POST", "/v1/models/mine/versions")) == 1


def test_a_refused_put_raises_the_storage_answer() -> None:
    refused = httpx.Response(403, text="<Error>SignatureDoesNotMatch</Error>")
    api = _uploads(FakeApi(), put=refused)

    with pytest.raises(Forbidden, match="SignatureDoesNotMatch"):
        api.client().models.push("mine", b"onnx", **SCHEMAS)


def test_a_batch_from_rows_uploads_jsonl_and_names_the_upload() -> None:
    rows = [{"custom_id": "a", "input": {"text": "good"}}, {"custom_id": "b", "input": {"text": "bad"}}]
    api = _uploads(FakeApi()).on("POST", "/v1/batches", ok(batch("validating"), 201))

    created = api.client().batches.create("sentiment", rows, webhook="https://h.example", metadata={"k": "v"})

    upload, put, create = api.requests
    assert json.loads(upload.content)["purpose"] == "batch_input"
    assert json.loads(upload.content)["content_type"] == "application/jsonl"
    assert [json.loads(line) for line in put.content.splitlines()] == rows
    assert json.loads(create.content) == {
        "model": "sentiment",
        "input_upload_id": "upl_1",
        "webhook": "https://h.example",
        "metadata": {"k": "v"},
    }
    assert create.headers["idempotency-key"]
    assert created.status == "validating"


def test_a_batch_from_a_file_streams_the_file(tmp_path: Path) -> None:
    path = tmp_path / "lines.jsonl"
    path.write_text('{"custom_id": "a", "input": {}}\n')
    api = _uploads(FakeApi()).on("POST", "/v1/batches", ok(batch("validating"), 201))

    api.client().batches.create("echo", path=path, version=1)

    assert api.requests[1].content == path.read_bytes()
    assert json.loads(api.requests[2].content)["model"] == "echo:1"


def test_a_batch_needs_rows_or_a_path_not_both() -> None:
    with pytest.raises(ValueError, match="one of the two"):
        FakeApi().client().batches.create("echo", [{"custom_id": "a", "input": {}}], path="x.jsonl")


def test_wait_tells_on_progress_each_change_and_returns_the_final_batch(slept: Naps) -> None:
    counts = [{"total": 0, "completed": 0, "failed": 0}, {"total": 2, "completed": 1, "failed": 0}]
    api = FakeApi().on(
        "GET",
        "/v1/batches/bat_1",
        ok(batch("validating", request_counts=counts[0])),
        ok(batch("validating", request_counts=counts[0])),
        ok(batch("in_progress", request_counts=counts[1])),
        ok(batch("completed")),
    )
    seen: list[Batch] = []

    final = api.client().batches.wait("bat_1", on_progress=seen.append, poll_interval=2)

    assert final.is_final
    assert [b.status for b in seen] == ["validating", "in_progress", "completed"]
    assert slept == [2, 2, 2]


def test_wait_times_out_with_the_batch_id() -> None:
    api = FakeApi().on("GET", "/v1/batches/bat_1", ok(batch("in_progress")))

    with pytest.raises(BatchTimeout) as raised:
        api.client().batches.wait("bat_1", timeout=5, poll_interval=1)

    assert raised.value.batch_id == "bat_1"


def test_results_stream_the_output_then_the_errors_without_the_api_key() -> None:
    out, err = "http://s3.test/out.jsonl", "http://s3.test/err.jsonl"
    api = (
        FakeApi()
        .on("GET", "/v1/batches/bat_1", ok(batch(output_url=out + "?sig=1", errors_url=err + "?sig=2")))
        .on("GET", out, httpx.Response(200, content=b'{"custom_id": "a", "output": {"x": 1}}\n\n'))
        .on("GET", err, httpx.Response(200, content=b'{"custom_id": "b", "error": {"code": "invalid_input"}}\n'))
    )

    lines = list(api.client().batches.results("bat_1"))

    assert lines == [{"custom_id": "a", "output": {"x": 1}}, {"custom_id": "b", "error": {"code": "invalid_input"}}]
    downloads = api.requests[1:]
    assert [str(r.url) for r in downloads] == [out + "?sig=1", err + "?sig=2"]
    assert all("authorization" not in r.headers for r in downloads)


def test_results_of_one_kind_only() -> None:
    out, err = "http://s3.test/out.jsonl", "http://s3.test/err.jsonl"
    api = (
        FakeApi()
        .on("GET", "/v1/batches/bat_1", ok(batch(output_url=out, errors_url=err)))
        .on("GET", err, httpx.Response(200, content=b'{"custom_id": "b", "error": {}}\n'))
    )

    assert [line["custom_id"] for line in api.client().batches.results("bat_1", kind="errors")] == ["b"]


def test_results_of_an_unfinished_batch_are_refused() -> None:
    api = FakeApi().on("GET", "/v1/batches/bat_1", ok(batch("in_progress")))

    with pytest.raises(BatchNotFinished):
        list(api.client().batches.results("bat_1"))


def test_batches_list_follows_next_through_the_openai_list_object() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("cursor") == "n2":
            return ok({"object": "list", "data": [batch(id="b3")], "has_more": False, "next": None})
        return ok({"object": "list", "data": [batch(id="b1"), batch(id="b2")], "has_more": True, "next": "n2"})

    api = FakeApi().on("GET", "/v1/batches", answer)

    assert [b.id for b in api.client().batches.list()] == ["b1", "b2", "b3"]


def test_async_push_streams_the_file_and_async_results_stream_lines(tmp_path: Path) -> None:
    model = tmp_path / "model.onnx"
    model.write_bytes(b"z" * 3_000_000)
    out = "http://s3.test/out.jsonl"
    api = (
        _uploads(FakeApi())
        .on("POST", "/v1/models/mine/versions", ok(_version(), 201))
        .on("GET", "/v1/batches/bat_1", ok(batch(output_url=out)))
        .on("GET", out, httpx.Response(200, content=b'{"custom_id": "a"}\n{"custom_id": "b"}\n'))
    )
    progress: list[str] = []

    async def note(found: Batch) -> None:
        progress.append(found.status)

    async def use() -> list[Any]:
        async with api.async_client() as client:
            await client.models.push("mine", model, **SCHEMAS)
            await client.batches.wait("bat_1", on_progress=note)
            return [line async for line in client.batches.results("bat_1")]

    lines = asyncio.run(use())

    assert api.requests[1].content == model.read_bytes()
    assert "transfer-encoding" not in api.requests[1].headers
    assert [line["custom_id"] for line in lines] == ["a", "b"]
    assert progress == ["completed"]
