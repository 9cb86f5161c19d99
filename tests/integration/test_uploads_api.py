"""OpenAI's Uploads API and Infergate's presigned PUT on one upload resource, through the real handlers
(payload v2 events, moto): creation in both dialects, parts, completion (streamed assembly, md5),
cancellation, and the errors of a route both dialects share."""

import time
from typing import Any

import pytest

from shared.adapters.clients import dynamodb_client, s3_client
from shared.adapters.dynamodb.files import DynamoFileStore
from shared.adapters.dynamodb.uploads import DynamoUploadStore
from shared.files.models import FilePurpose, StoredFile
from shared.keys.models import Caller, Scope
from shared.settings import BucketSettings, StoreSettings, settings
from shared.uploads.models import UploadChangedError, UploadPart, UploadStateError
from shared.uploads.service import ABANDONED_AFTER_SECONDS
from shared.wiring import upload_service
from tests.conftest import Credential, MintKey
from tests.support.events import bearer, response_json
from tests.support.gateway import call
from tests.support.openai_wire import md5_hex, multipart

# Parts smaller than S3's 5 MiB minimum, in numbers that do not map one to one onto S3 parts (8 MiB).
PART = 3 * 1024 * 1024 + 17
DATA = b"".join(b'{"custom_id": "%d", "input": {"text": "line %d"}}\n' % (i, i) for i in range(230_000))[: 3 * PART - 5]


def _create(secret: str, size: int = len(DATA), **extra: Any) -> dict[str, Any]:
    body = {"purpose": "batch", "filename": "corpus.jsonl", "bytes": size, "mime_type": "application/jsonl", **extra}
    return call("POST", "/v1/uploads", body=body, headers=bearer(secret))


def _part(secret: str, upload_id: str, data: bytes) -> dict[str, Any]:
    body, content_type = multipart([("data", ("blob", data))])
    headers = {**bearer(secret), "content-type": content_type}
    return call("POST", f"/v1/uploads/{upload_id}/parts", raw_body=body, headers=headers)


def _parts(secret: str, upload_id: str, data: bytes = DATA) -> list[str]:
    ids = []
    for start in range(0, len(data), PART):
        response = _part(secret, upload_id, data[start : start + PART])
        assert response["statusCode"] == 200, response
        ids.append(response_json(response)["id"])
    return ids


def _complete(secret: str, upload_id: str, **body: Any) -> dict[str, Any]:
    return call("POST", f"/v1/uploads/{upload_id}/complete", body=body, headers=bearer(secret))


def _openai_error(response: dict[str, Any], status: int) -> dict[str, Any]:
    assert response["statusCode"] == status, response
    assert response["headers"]["content-type"] == "application/json"
    error: dict[str, Any] = response_json(response)["error"]
    return error


def _bucket_keys() -> list[str]:
    listed = s3_client().list_objects_v2(Bucket=settings(BucketSettings).bucket_name, Prefix="uploads/")
    return sorted(item["Key"] for item in listed.get("Contents", []))


def _file_items() -> list[dict[str, Any]]:
    scanned = dynamodb_client().scan(TableName=settings(StoreSettings).table_name)
    return [item for item in scanned["Items"] if item["SK"]["S"].startswith("FILE#")]


def _file_bytes(file_id: str) -> bytes:
    """The bytes of the object the file's item names."""
    [item] = [item for item in _file_items() if item["SK"]["S"] == f"FILE#{file_id}"]
    body = s3_client().get_object(Bucket=settings(BucketSettings).bucket_name, Key=item["object_key"]["S"])["Body"]
    data: bytes = body.read()
    return data


@pytest.mark.parametrize("declared", ["Application/JSONL", "application/jsonl; charset=utf-8", "TEXT/JSONL "])
def test_a_mime_type_is_read_as_its_media_type_whatever_its_case_and_parameters(
    admin: Credential, declared: str
) -> None:
    created = _create(admin.secret, mime_type=declared)

    assert created["statusCode"] == 201, response_json(created)
    assert response_json(created)["headers"]["Content-Type"] == declared.split(";")[0].strip().lower()


def test_an_openai_body_and_an_infergate_body_make_the_same_upload_object(admin: Credential) -> None:
    openai = _create(admin.secret)
    native = call(
        "POST",
        "/v1/uploads",
        body={"purpose": "batch_input", "content_type": "application/x-ndjson", "size": 10},
        headers=bearer(admin.secret),
    )

    for response in (openai, native):
        assert response["statusCode"] == 201, response
        upload = response_json(response)
        assert set(upload) == {
            "id", "object", "bytes", "created_at", "expires_at", "filename", "purpose", "status", "file",
            "url", "method", "headers",
        }  # fmt: skip
        assert (upload["object"], upload["purpose"], upload["status"], upload["file"]) == (
            "upload",
            "batch",
            "pending",
            None,
        )
        assert upload["expires_at"] - upload["created_at"] == 3600
        assert upload["method"] == "PUT"
        assert upload["url"].startswith("http")
    assert response_json(openai)["filename"] == "corpus.jsonl"
    assert response_json(native)["filename"] == response_json(native)["id"]
    assert response_json(native)["headers"] == {"Content-Type": "application/x-ndjson", "Content-Length": "10"}


def test_parts_are_assembled_in_order_into_a_file_whose_md5_is_checked(admin: Credential) -> None:
    upload = response_json(_create(admin.secret))
    ids = _parts(admin.secret, upload["id"])

    done = _complete(admin.secret, upload["id"], part_ids=ids, md5=md5_hex(DATA))

    assert done["statusCode"] == 200, done
    completed = response_json(done)
    file_id = "file_" + upload["id"].removeprefix("upl_")
    assert completed["status"] == "completed"
    assert completed["file"]["id"] == file_id
    assert (completed["file"]["bytes"], completed["file"]["filename"], completed["file"]["purpose"]) == (
        len(DATA),
        "corpus.jsonl",
        "batch",
    )
    assert _file_bytes(file_id) == DATA
    [key] = _bucket_keys()  # the parts are gone; the file is assembled into the completion's own object
    assert key.startswith(f"uploads/acme/{upload['id']}.assembled/")
    assert response_json(call("GET", f"/v1/files/{file_id}", headers=bearer(admin.secret)))["bytes"] == len(DATA)
    again = _complete(admin.secret, upload["id"], part_ids=ids, md5=md5_hex(DATA))
    assert response_json(again) == completed  # idempotent


def test_parts_named_out_of_order_are_assembled_in_the_order_named(admin: Credential) -> None:
    data = b"A" * 10 + b"B" * 20
    upload = response_json(_create(admin.secret, size=len(data)))
    first = response_json(_part(admin.secret, upload["id"], b"B" * 20))["id"]
    second = response_json(_part(admin.secret, upload["id"], b"A" * 10))["id"]

    done = response_json(_complete(admin.secret, upload["id"], part_ids=[second, first]))

    assert _file_bytes(done["file"]["id"]) == data


def test_a_wrong_md5_is_a_400_and_makes_no_file(admin: Credential) -> None:
    upload = response_json(_create(admin.secret, size=30))
    ids = _parts(admin.secret, upload["id"], b"x" * 30)

    error = _openai_error(_complete(admin.secret, upload["id"], part_ids=ids, md5=md5_hex(b"y")), 400)

    assert error["param"] == "md5"
    assert _file_items() == []
    assert not any(".assembled/" in key for key in _bucket_keys())
    assert response_json(_complete(admin.secret, upload["id"], part_ids=ids))["status"] == "completed"


def _race(
    admin: Credential,
    monkeypatch: pytest.MonkeyPatch,
    data: bytes,
    racing_md5: str | None,
    md5: str | None,
    racing_reversed: bool = False,
) -> tuple[Any, dict[str, Any]]:
    """Two completes of one upload of ``data``: another container's (with ``racing_md5``) runs from start to
    end while this one (``md5``) is between assembling and writing its file. What the other answered (the
    upload, or the error it raised) and this one's response."""
    upload = response_json(_create(admin.secret, size=len(data)))
    halves = (data[: len(data) // 2], data[len(data) // 2 :])  # two parts, so that their order matters
    ids = [response_json(_part(admin.secret, upload["id"], half))["id"] for half in halves]
    caller = Caller(admin.tenant, admin.key_id, frozenset({Scope.ADMIN}))
    create = DynamoFileStore.create
    raced: list[Any] = []

    def racing(store: DynamoFileStore, file: StoredFile) -> bool:
        if not raced:
            raced.append(None)  # the racing complete writes its file too: it must not race itself
            try:
                named = ids[::-1] if racing_reversed else ids
                raced[0] = upload_service().complete(caller, upload["id"], named, racing_md5)
            except UploadStateError as refused:
                raced[0] = refused
        return create(store, file)

    monkeypatch.setattr(DynamoFileStore, "create", racing)
    answered = _complete(admin.secret, upload["id"], part_ids=ids, md5=md5)
    return raced[0], answered


def test_a_refused_complete_racing_a_good_one_leaves_the_good_one_s_file_whole(
    admin: Credential, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The refused one deletes what it assembled itself, never the good one's object.
    data = b"0123456789" * 3
    refused, done = _race(admin, monkeypatch, data, racing_md5=md5_hex(b"other"), md5=md5_hex(data))

    assert isinstance(refused, UploadStateError)
    assert refused.errors[0].pointer == "/md5"
    assert _file_bytes(response_json(done)["file"]["id"]) == data


def test_of_two_good_completes_racing_one_makes_the_file_and_the_other_answers_it(
    admin: Credential, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = b"abcdefghij" * 3
    first, late = _race(admin, monkeypatch, data, racing_md5=None, md5=None)

    assert response_json(late)["status"] == first.status == "completed"  # the late one answers the completed upload
    assert response_json(late)["file"]["id"] == first.file_id
    assert _file_bytes(response_json(late)["file"]["id"]) == data
    assert len([key for key in _bucket_keys() if ".assembled/" in key]) == 1  # the loser's assembly is gone


def test_a_complete_losing_to_one_of_another_part_order_is_refused_not_told_its_order_was_used(
    admin: Credential, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = b"A" * 10 + b"B" * 20
    upload = response_json(_create(admin.secret, size=len(data)))
    first = response_json(_part(admin.secret, upload["id"], b"A" * 10))["id"]
    second = response_json(_part(admin.secret, upload["id"], b"B" * 20))["id"]
    done = response_json(_complete(admin.secret, upload["id"], part_ids=[first, second]))

    reordered = _complete(admin.secret, upload["id"], part_ids=[second, first])
    again = _complete(admin.secret, upload["id"], part_ids=[first, second])

    assert _openai_error(reordered, 400)["param"] == "part_ids"
    assert response_json(again) == done
    assert _file_bytes(done["file"]["id"]) == data


def test_of_two_completes_racing_in_other_orders_the_loser_is_refused(
    admin: Credential, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = bytes(range(30))
    winner, loser = _race(admin, monkeypatch, data, racing_md5=None, md5=None, racing_reversed=True)

    assert winner.status == "completed"
    assert _openai_error(loser, 400)["param"] == "part_ids"


def test_a_cancelled_upload_cannot_feed_a_batch(admin: Credential) -> None:
    upload = response_json(
        call(
            "POST",
            "/v1/uploads",
            body={"purpose": "batch_input", "content_type": "application/jsonl", "size": 30},
            headers=bearer(admin.secret),
        )
    )
    s3_client().put_object(
        Bucket=settings(BucketSettings).bucket_name,
        Key=f"uploads/acme/{upload['id']}",
        Body=b"x" * 30,
        ContentType="application/jsonl",
    )
    call("POST", f"/v1/uploads/{upload['id']}/cancel", headers=bearer(admin.secret))

    refused = call(
        "POST", "/v1/batches", body={"model": "echo", "input_upload_id": upload["id"]}, headers=bearer(admin.secret)
    )

    assert refused["statusCode"] == 422, refused
    assert response_json(refused)["errors"] == [{"pointer": "/input_upload_id", "detail": "The upload was cancelled."}]


def test_a_batch_on_an_upload_whose_file_never_arrived_is_refused_saying_so(admin: Credential) -> None:
    """The file's HeadObject finds no key: S3 answers 404 only to a role with s3:ListBucket (else 403, a 500)."""
    upload = response_json(_create(admin.secret, size=30))

    refused = call(
        "POST", "/v1/batches", body={"model": "echo", "input_upload_id": upload["id"]}, headers=bearer(admin.secret)
    )

    assert refused["statusCode"] == 422, refused
    detail = "Nothing has been uploaded yet: PUT the file to the upload's URL."
    assert response_json(refused)["errors"] == [{"pointer": "/input_upload_id", "detail": detail}]


def test_parts_that_do_not_add_up_to_the_declared_bytes_are_refused(admin: Credential) -> None:
    upload = response_json(_create(admin.secret, size=30))
    ids = _parts(admin.secret, upload["id"], b"x" * 20)

    short = _complete(admin.secret, upload["id"], part_ids=ids)
    over = _part(admin.secret, upload["id"], b"x" * 11)
    foreign = _complete(admin.secret, upload["id"], part_ids=[*ids, "part_01JD5YB4W3ZV0B4S8FZ7Q6N9XK"])

    assert "add up to 20 bytes" in _openai_error(short, 400)["message"]
    assert "declared 30" in _openai_error(over, 400)["message"]
    assert _openai_error(foreign, 400)["param"] == "part_ids"
    assert _file_items() == []


def test_a_cancelled_upload_takes_no_part_and_no_completion(admin: Credential) -> None:
    upload = response_json(_create(admin.secret, size=30))
    ids = _parts(admin.secret, upload["id"], b"x" * 10)

    cancelled = call("POST", f"/v1/uploads/{upload['id']}/cancel", headers=bearer(admin.secret))
    part = _part(admin.secret, upload["id"], b"x" * 10)
    complete = _complete(admin.secret, upload["id"], part_ids=ids)

    assert response_json(cancelled)["status"] == "cancelled"
    assert "The upload is cancelled" in _openai_error(part, 400)["message"]
    assert "The upload is cancelled" in _openai_error(complete, 400)["message"]
    assert _bucket_keys() == []


def test_a_presigned_put_completes_without_parts_into_a_file_on_the_same_object(admin: Credential) -> None:
    data = b'{"custom_id": "a", "input": {"text": "x"}}\n'
    upload = response_json(_create(admin.secret, size=len(data)))
    early = _complete(admin.secret, upload["id"], part_ids=[])
    key = f"uploads/acme/{upload['id']}"
    bucket = settings(BucketSettings).bucket_name
    s3_client().put_object(Bucket=bucket, Key=key, Body=data, ContentType="application/jsonl")

    done = response_json(_complete(admin.secret, upload["id"], part_ids=[], md5=md5_hex(data)))

    assert "Nothing has been uploaded yet" in _openai_error(early, 400)["message"]
    assert done["file"]["bytes"] == len(data)
    assert _bucket_keys() == [key]


def test_a_model_artifact_upload_takes_no_parts(admin: Credential) -> None:
    upload = call(
        "POST",
        "/v1/uploads",
        body={"purpose": "model_artifact", "content_type": "application/octet-stream", "size": 10},
        headers=bearer(admin.secret),
    )

    refused = _part(admin.secret, response_json(upload)["id"], b"x" * 10)

    assert "Only batch uploads take parts" in _openai_error(refused, 400)["message"]


def test_another_tenant_s_upload_is_not_found(admin: Credential, mint: MintKey) -> None:
    upload = response_json(_create(admin.secret, size=10))
    outsider = mint("globex", (Scope.PREDICT,))

    assert _openai_error(_part(outsider.secret, upload["id"], b"x" * 10), 404)
    assert _openai_error(_complete(outsider.secret, upload["id"], part_ids=[]), 404)
    assert _openai_error(call("POST", f"/v1/uploads/{upload['id']}/cancel", headers=bearer(outsider.secret)), 404)


@pytest.mark.parametrize("size", [-1, 0, 100 * 1024 * 1024 + 1, 10**30])
def test_an_openai_body_with_impossible_bytes_is_openai_s_400_in_a_problem_document(
    admin: Credential, size: int
) -> None:
    response = _create(admin.secret, size=size)

    assert response["statusCode"] == 400
    assert response["headers"]["content-type"] == "application/problem+json"
    problem = response_json(response)
    assert (problem["status"], problem["type"]) == (400, "urn:infergate:problem:validation-failed")
    assert problem["error"]["param"] == "bytes"
    assert problem["error"]["type"] == "invalid_request_error"


def test_an_infergate_body_keeps_its_422_with_the_openai_member_beside(admin: Credential) -> None:
    response = call(
        "POST",
        "/v1/uploads",
        body={"purpose": "batch_input", "content_type": "application/jsonl", "size": -1},
        headers=bearer(admin.secret),
    )

    assert response["statusCode"] == 422
    problem = response_json(response)
    assert problem["errors"] == [{"pointer": "/size", "detail": "Input should be greater than or equal to 1"}]
    assert problem["error"]["param"] == "size"


def test_a_native_batch_error_is_a_problem_document_carrying_openai_s_error_member(admin: Credential) -> None:
    response = call("POST", "/v1/batches", body={"model": "echo"}, headers=bearer(admin.secret))

    assert response["statusCode"] == 422
    problem = response_json(response)
    assert problem["type"] == "urn:infergate:problem:validation-failed"
    assert problem["error"]["message"].startswith("The request body is invalid.")
    assert problem["error"]["type"] == "invalid_request_error"


def test_the_store_refuses_a_part_past_the_declared_bytes_even_from_a_stale_read(admin: Credential) -> None:
    """Two parts racing: each was judged on the upload as read, the conditional write holds the line."""
    upload = response_json(_create(admin.secret, size=30))
    store = DynamoUploadStore(settings(StoreSettings).table_name, dynamodb_client())
    stale = store.get("acme", upload["id"])
    assert stale is not None
    store.add_part(stale, UploadPart("part_01JD5YB4W3ZV0B4S8FZ7Q6N9XA", 20), upload["created_at"], 1000)

    with pytest.raises(UploadChangedError) as lost:
        store.add_part(stale, UploadPart("part_01JD5YB4W3ZV0B4S8FZ7Q6N9XB", 20), upload["created_at"], 1000)
    with pytest.raises(UploadChangedError):
        store.add_part(stale, UploadPart("part_01JD5YB4W3ZV0B4S8FZ7Q6N9XC", 5), upload["created_at"], 1)

    assert lost.value.current is not None
    assert lost.value.current.received == 20
    assert (
        store.add_part(stale, UploadPart("part_01JD5YB4W3ZV0B4S8FZ7Q6N9XD", 10), upload["created_at"], 2).received == 30
    )


def test_a_part_after_the_upload_s_hour_is_refused(admin: Credential) -> None:
    upload = response_json(_create(admin.secret, size=30))
    dynamodb_client().update_item(
        TableName=settings(StoreSettings).table_name,
        Key={"PK": {"S": "TENANT#acme"}, "SK": {"S": f"UPLOAD#{upload['id']}"}},
        UpdateExpression="SET url_expires_at = :past",
        ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 1)}},
    )

    late = _part(admin.secret, upload["id"], b"x" * 30)

    assert _openai_error(late, 400)["message"]
    stored = DynamoUploadStore(settings(StoreSettings).table_name, dynamodb_client()).get("acme", upload["id"])
    assert stored is not None
    assert stored.parts == ()


def test_a_completion_takes_over_the_file_item_of_one_that_died_before_completing(admin: Credential) -> None:
    data = b"0123456789" * 3
    upload = response_json(_create(admin.secret, size=len(data)))
    ids = _parts(admin.secret, upload["id"], data)
    file_id = "file_" + upload["id"].removeprefix("upl_")
    died = int(time.time()) - ABANDONED_AFTER_SECONDS - 1  # its function has long ended
    DynamoFileStore(settings(StoreSettings).table_name, dynamodb_client()).put(
        StoredFile(
            file_id, "acme", FilePurpose.BATCH, "corpus.jsonl", len(data), "uploads/acme/gone", died, died + 3600
        )
    )

    done = _complete(admin.secret, upload["id"], part_ids=ids)

    assert response_json(done)["status"] == "completed", response_json(done)
    assert _file_bytes(file_id) == data  # the item now names this completion's object
