"""OpenAI's Files and Uploads APIs over the local stack, driven by OpenAI's own Python SDK, unchanged:
files.create / retrieve / list / content / delete, the chunked upload helper, the body limit, and every
refusal as the SDK's own exception class."""

import hashlib

import openai
import pytest
from openai import OpenAI

from shared.api.bodies import MAX_MULTIPART_BODY_BYTES, PART_SIZE_HINT
from tests.e2e.conftest import LocalStack, mint_key
from tests.support.openai_wire import files_create_framing

pytestmark = pytest.mark.e2e

LINES = b"".join(b'{"custom_id": "%d", "input": {"text": "line %d"}}\n' % (i, i) for i in range(300_000))


def _client(local_stack: LocalStack, key: str) -> OpenAI:
    # No retries: a refusal must show, not be retried away.
    return OpenAI(base_url=local_stack.base_url + "/v1", api_key=key, max_retries=0, timeout=60)


@pytest.fixture(scope="module")
def client(local_stack: LocalStack) -> OpenAI:
    return _client(local_stack, mint_key(local_stack, "e2e-files", "predict"))


def test_a_file_goes_through_create_retrieve_list_content_and_delete(local_stack: LocalStack) -> None:
    client = _client(local_stack, mint_key(local_stack, "e2e-files-listing", "predict"))  # its files alone
    created = [client.files.create(file=(f"part-{i}.jsonl", LINES[: 1000 + i]), purpose="batch") for i in range(3)]

    retrieved = client.files.retrieve(created[0].id)
    first = client.files.list(limit=2)
    rest = client.files.list(limit=2, after=first.data[-1].id)
    every = [file.id for file in client.files.list(limit=1)]  # the SDK's own paging, with after
    content = client.files.with_raw_response.content(created[1].id)

    assert retrieved == created[0]
    assert (retrieved.object, retrieved.status, retrieved.purpose, retrieved.bytes) == (
        "file",
        "processed",
        "batch",
        1000,
    )
    assert retrieved.expires_at is not None
    assert retrieved.expires_at > retrieved.created_at
    assert [f.id for f in first.data] == [created[2].id, created[1].id]
    assert first.has_more
    assert [f.id for f in rest.data] == [created[0].id]
    assert not rest.has_more
    assert every == [created[2].id, created[1].id, created[0].id]
    assert content.parse().content == LINES[:1001]
    # The SDK followed our redirect to S3, and did not send the API key there.
    assert [response.status_code for response in content.http_response.history] == [307]
    assert "authorization" not in content.http_response.request.headers
    assert content.http_response.history[0].request.headers["authorization"].startswith("Bearer igk_")

    deleted = client.files.delete(created[1].id)

    assert (deleted.id, deleted.deleted) == (created[1].id, True)
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(created[1].id)
    with pytest.raises(openai.NotFoundError):
        client.files.content(created[1].id)


def test_the_largest_file_passes_and_one_byte_more_is_the_sdk_s_413(local_stack: LocalStack) -> None:
    client = _client(local_stack, mint_key(local_stack, "e2e-files-limit", "predict"))
    largest = MAX_MULTIPART_BODY_BYTES - files_create_framing("batch.jsonl")

    with pytest.raises(openai.APIStatusError) as refused:
        client.files.create(file=("batch.jsonl", b"x" * (largest + 1)), purpose="batch")
    assert client.files.list().data == []  # nothing stored
    stored = client.files.create(file=("batch.jsonl", b"x" * largest), purpose="batch")

    assert refused.value.status_code == 413
    assert "upload_file_chunked" in refused.value.message
    assert "POST /v1/uploads" in refused.value.message
    assert stored.bytes == largest == 4_669_160
    assert client.files.content(stored.id).content == b"x" * largest


def test_the_chunked_upload_helper_makes_a_file_whose_content_round_trips(client: OpenAI) -> None:
    data = LINES[: 2 * PART_SIZE_HINT + 12_345]  # three parts, none of S3's 5 MiB minimum

    upload = client.uploads.upload_file_chunked(
        file=data,
        filename="corpus.jsonl",
        bytes=len(data),
        mime_type="application/jsonl",
        purpose="batch",
        part_size=PART_SIZE_HINT,
        md5=hashlib.md5(data, usedforsecurity=False).hexdigest(),
    )

    assert (upload.status, upload.bytes, upload.filename) == ("completed", len(data), "corpus.jsonl")
    assert upload.file is not None
    assert upload.file.bytes == len(data)
    assert client.files.retrieve(upload.file.id).filename == "corpus.jsonl"
    assert client.files.content(upload.file.id).content == data


def test_a_wrong_md5_is_the_sdk_s_bad_request_and_makes_no_file(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        client.uploads.upload_file_chunked(
            file=b"abc\n",
            filename="x.jsonl",
            bytes=4,
            mime_type="application/jsonl",
            purpose="batch",
            md5=hashlib.md5(b"other", usedforsecurity=False).hexdigest(),
        )

    assert refused.value.param == "md5"


def test_a_part_after_cancel_and_parts_of_the_wrong_size_are_bad_requests(client: OpenAI) -> None:
    cancelled = client.uploads.create(bytes=10, filename="a.jsonl", mime_type="application/jsonl", purpose="batch")
    short = client.uploads.create(bytes=10, filename="b.jsonl", mime_type="text/jsonl", purpose="batch")
    part = client.uploads.parts.create(upload_id=short.id, data=b"12345")

    assert client.uploads.cancel(cancelled.id).status == "cancelled"
    with pytest.raises(openai.BadRequestError, match="cancelled"):
        client.uploads.parts.create(upload_id=cancelled.id, data=b"12345")
    with pytest.raises(openai.BadRequestError, match="add up to 5 bytes"):
        client.uploads.complete(short.id, part_ids=[part.id])
    with pytest.raises(openai.BadRequestError, match="declared 10"):
        client.uploads.parts.create(upload_id=short.id, data=b"x" * 6)
    with pytest.raises(openai.BadRequestError) as huge:
        client.uploads.create(bytes=-1, filename="c.jsonl", mime_type="application/jsonl", purpose="batch")
    assert huge.value.param == "bytes"


def test_another_tenant_gets_the_sdk_s_not_found(local_stack: LocalStack, client: OpenAI) -> None:
    file = client.files.create(file=("mine.jsonl", LINES[:100]), purpose="batch")
    upload = client.uploads.create(bytes=10, filename="a.jsonl", mime_type="application/jsonl", purpose="batch")
    outsider = _client(local_stack, mint_key(local_stack, "e2e-files-outsider", "predict"))

    with pytest.raises(openai.NotFoundError):
        outsider.files.retrieve(file.id)
    with pytest.raises(openai.NotFoundError):
        outsider.files.delete(file.id)
    with pytest.raises(openai.NotFoundError):
        outsider.uploads.parts.create(upload_id=upload.id, data=b"x")
    assert client.files.retrieve(file.id) == file


def test_a_purpose_other_than_batch_is_the_sdk_s_bad_request(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        client.files.create(file=("a.jsonl", b"x"), purpose="assistants")

    assert refused.value.param == "purpose"
