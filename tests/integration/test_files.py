"""OpenAI's Files API through the real handlers (payload v2 events, moto): the body limit, the file
objects, paging, the content redirect, deletion, tenancy, and hostile multipart bodies."""

import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from shared.adapters.clients import dynamodb_client, s3_client
from shared.api.bodies import LAMBDA_PAYLOAD_BYTES, MAX_MULTIPART_BODY_BYTES
from shared.files.models import FilePurpose, UnusableFileError
from shared.kernel.errors import FieldError
from shared.keys.models import Scope
from shared.settings import BucketSettings, StoreSettings, settings
from shared.wiring import file_service
from tests.conftest import Credential, MintKey
from tests.support.events import bearer, http_event, response_json
from tests.support.gateway import call, route
from tests.support.openai_wire import files_create_framing, multipart, sdk_request
from tools.lambda_runtime import invoke_function

FILENAME = "batch.jsonl"
LINES = b'{"custom_id": "a", "input": {"text": "hi"}}\n'


def _gateway_event(method: str, path: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """The event API Gateway's HTTP API would send: a multipart body is binary, so base64."""
    logical_id, route_key = route(method, path)
    return http_event(method, path, raw_body=body, headers=headers, route_key=route_key) | {"_function": logical_id}


def _invoke(event: dict[str, Any]) -> dict[str, Any]:
    function = event.pop("_function")
    response: dict[str, Any] = invoke_function(function, event)
    return response


def _upload_file(secret: str, *, filename: str = FILENAME, expires_after: str | None = None) -> dict[str, Any]:
    extra = (
        [("expires_after[anchor]", "created_at"), ("expires_after[seconds]", expires_after)] if expires_after else []
    )
    body, content_type = multipart([("purpose", "batch"), *extra, ("file", (filename, LINES))])
    return call("POST", "/v1/files", raw_body=body, headers={**bearer(secret), "content-type": content_type})


def _objects(prefix: str = "uploads/") -> list[str]:
    listed = s3_client().list_objects_v2(Bucket=settings(BucketSettings).bucket_name, Prefix=prefix)
    return [item["Key"] for item in listed.get("Contents", [])]


def _file_items() -> list[dict[str, Any]]:
    scanned = dynamodb_client().scan(TableName=settings(StoreSettings).table_name)
    return [item for item in scanned["Items"] if item["SK"]["S"].startswith("FILE#")]


def _openai_error(response: dict[str, Any], status: int) -> dict[str, Any]:
    assert response["statusCode"] == status, response
    assert response["headers"]["content-type"] == "application/json"
    error: dict[str, Any] = response_json(response)["error"]
    assert set(error) == {"message", "type", "param", "code"}
    return error


def test_the_largest_file_the_sdk_sends_fits_one_lambda_event_and_is_stored(admin: Credential) -> None:
    """The SDK's own request for the largest file (its framing measured for this filename), built into
    the event API Gateway would send, is within Lambda's 6,291,456 bytes, and the real handler stores it."""
    largest = MAX_MULTIPART_BODY_BYTES - files_create_framing(FILENAME)
    data = b"x" * largest
    sent = sdk_request(lambda c: c.files.create(file=(FILENAME, data), purpose="batch"))
    assert len(sent.content) == MAX_MULTIPART_BODY_BYTES
    headers = {name: value for name, value in sent.headers.items() if name not in {"authorization", "host"}}
    event = _gateway_event("POST", "/v1/files", sent.content, {**headers, **bearer(admin.secret)})

    assert len(json.dumps(event, separators=(",", ":")).encode()) <= LAMBDA_PAYLOAD_BYTES
    response = _invoke(event)

    assert response["statusCode"] == 200, response
    stored = response_json(response)
    assert (stored["bytes"], stored["filename"], stored["purpose"]) == (largest, FILENAME, "batch")
    body = s3_client().get_object(Bucket=settings(BucketSettings).bucket_name, Key=f"uploads/acme/{stored['id']}")
    assert body["Body"].read() == data


def test_one_byte_more_is_refused_413_naming_both_ways_and_nothing_is_stored(admin: Credential) -> None:
    data = b"x" * (MAX_MULTIPART_BODY_BYTES - files_create_framing(FILENAME) + 1)
    sent = sdk_request(lambda c: c.files.create(file=(FILENAME, data), purpose="batch"))
    headers = {name: value for name, value in sent.headers.items() if name not in {"authorization", "host"}}

    response = _invoke(_gateway_event("POST", "/v1/files", sent.content, {**headers, **bearer(admin.secret)}))

    error = _openai_error(response, 413)
    assert f"{MAX_MULTIPART_BODY_BYTES:,} bytes" in error["message"]
    assert "upload_file_chunked(..., part_size=4194304)" in error["message"]
    assert "POST /v1/uploads" in error["message"]
    assert _objects() == []
    assert _file_items() == []


def test_a_file_is_stored_described_and_deleted_in_openai_shape(admin: Credential) -> None:
    created = _upload_file(admin.secret)
    file = response_json(created)

    assert created["statusCode"] == 200, created
    assert set(file) == {
        "id", "object", "bytes", "created_at", "expires_at", "filename", "purpose", "status", "status_details",
    }  # fmt: skip
    assert (file["object"], file["bytes"], file["status"], file["status_details"]) == (
        "file",
        len(LINES),
        "processed",
        None,
    )
    assert file["expires_at"] - file["created_at"] == 7 * 86_400  # the retention
    got = call("GET", f"/v1/files/{file['id']}", headers=bearer(admin.secret))
    assert response_json(got) == file

    deleted = call("DELETE", f"/v1/files/{file['id']}", headers=bearer(admin.secret))

    assert response_json(deleted) == {"id": file["id"], "object": "file", "deleted": True}
    assert _objects() == []
    assert _file_items() == []
    gone = _openai_error(call("GET", f"/v1/files/{file['id']}", headers=bearer(admin.secret)), 404)
    assert gone["message"] == f"No such File object: {file['id']}"
    assert gone["code"] is None  # OpenAI's missing file has no code; model_not_found is for models only


def test_expires_after_shortens_a_file_s_life_and_is_capped_at_the_retention(admin: Credential) -> None:
    short = response_json(_upload_file(admin.secret, expires_after="3600"))
    long = response_json(_upload_file(admin.secret, expires_after="2592000"))
    refused = _upload_file(admin.secret, expires_after="60")

    assert short["expires_at"] - short["created_at"] == 3600
    assert long["expires_at"] - long["created_at"] == 7 * 86_400
    assert _openai_error(refused, 400)["param"] == "expires_after"


def test_the_content_route_redirects_to_a_presigned_get_of_the_object(admin: Credential) -> None:
    file = response_json(_upload_file(admin.secret))

    response = call("GET", f"/v1/files/{file['id']}/content", headers=bearer(admin.secret))

    assert response["statusCode"] == 307
    location = urlsplit(response["headers"]["location"])
    assert location.path.endswith(f"/uploads/acme/{file['id']}")
    assert "X-Amz-Signature" in parse_qs(location.query)


def test_files_are_listed_newest_first_and_paged_with_after(admin: Credential) -> None:
    ids = [response_json(_upload_file(admin.secret))["id"] for _ in range(5)]

    first = response_json(call("GET", "/v1/files?limit=2", headers=bearer(admin.secret)))
    second = response_json(call("GET", f"/v1/files?limit=2&after={first['last_id']}", headers=bearer(admin.secret)))
    last = response_json(call("GET", f"/v1/files?limit=2&after={second['last_id']}", headers=bearer(admin.secret)))
    ascending = response_json(call("GET", "/v1/files?order=asc&limit=100", headers=bearer(admin.secret)))
    outputs = response_json(call("GET", "/v1/files?purpose=batch_output", headers=bearer(admin.secret)))

    assert [f["id"] for f in first["data"] + second["data"] + last["data"]] == ids[::-1]
    assert (first["object"], first["has_more"], second["has_more"], last["has_more"]) == ("list", True, True, False)
    assert (first["first_id"], first["last_id"]) == (ids[4], ids[3])
    assert [f["id"] for f in ascending["data"]] == ids
    assert outputs["data"] == []
    assert outputs["first_id"] is None


def test_another_tenant_s_file_is_not_found(admin: Credential, mint: MintKey) -> None:
    file = response_json(_upload_file(admin.secret))
    outsider = mint("globex", (Scope.PREDICT,))

    for method, path in [
        ("GET", f"/v1/files/{file['id']}"),
        ("GET", f"/v1/files/{file['id']}/content"),
        ("DELETE", f"/v1/files/{file['id']}"),
    ]:
        assert _openai_error(call(method, path, headers=bearer(outsider.secret)), 404)
    assert response_json(call("GET", "/v1/files", headers=bearer(outsider.secret)))["data"] == []
    assert len(_file_items()) == 1


@pytest.mark.parametrize(
    ("filename", "param"),
    [
        ("a\x01b.jsonl", "file"),
        ("a\u202eb.jsonl", "file"),
        ("../etc/passwd", "file"),
        ("dir\\x.jsonl", "file"),
        ("x" * 256, "file"),
    ],
)
def test_a_hostile_filename_is_refused_and_nothing_is_stored(admin: Credential, filename: str, param: str) -> None:
    error = _openai_error(_upload_file(admin.secret, filename=filename), 400)

    assert error["param"] == param
    assert _objects() == []
    assert _file_items() == []


def test_a_filename_is_stored_as_given(admin: Credential) -> None:
    file = response_json(_upload_file(admin.secret, filename="Données 2026 (v2).jsonl"))

    assert file["filename"] == "Données 2026 (v2).jsonl"
    assert _objects() == [f"uploads/acme/{file['id']}"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ([("purpose", "batch"), ("file", ("a.jsonl", LINES)), ("file", ("b.jsonl", LINES))], "Too many files"),
        (
            [("purpose", "batch"), *[(f"f{i}", "x") for i in range(300)], ("file", ("a.jsonl", LINES))],
            "Too many fields",
        ),
        ([("purpose", "b" * 2000), ("file", ("a.jsonl", LINES))], "exceeded maximum size"),
    ],
)
def test_a_multipart_body_beyond_its_bounds_is_refused_before_anything_is_stored(
    admin: Credential, fields: list[tuple[str, Any]], message: str
) -> None:
    body, content_type = multipart(fields)

    response = call("POST", "/v1/files", raw_body=body, headers={**bearer(admin.secret), "content-type": content_type})

    assert message in _openai_error(response, 400)["message"]
    assert _objects() == []
    assert _file_items() == []


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ([("file", ("a.jsonl", LINES))], "purpose"),
        ([("purpose", "assistants"), ("file", ("a.jsonl", LINES))], "purpose"),
        ([("purpose", "batch")], "file"),
    ],
)
def test_a_missing_or_refused_field_is_a_400_naming_it(
    admin: Credential, fields: list[tuple[str, Any]], param: str
) -> None:
    body, content_type = multipart(fields)

    response = call("POST", "/v1/files", raw_body=body, headers={**bearer(admin.secret), "content-type": content_type})

    assert _openai_error(response, 400)["param"] == param
    assert _file_items() == []


def test_a_json_body_on_the_files_route_is_415_and_multipart_elsewhere_is_415_too(admin: Credential) -> None:
    json_body = call("POST", "/v1/files", body={"purpose": "batch"}, headers=bearer(admin.secret))
    body, content_type = multipart([("model", "echo")])
    multipart_elsewhere = call(
        "POST", "/v1/predictions", raw_body=body, headers={**bearer(admin.secret), "content-type": content_type}
    )

    assert _openai_error(json_body, 415)["message"] == "The request body must be multipart/form-data."
    assert multipart_elsewhere["statusCode"] == 415
    assert response_json(multipart_elsewhere)["type"] == "urn:infergate:problem:unsupported-media-type"


def test_ready_for_gives_the_batches_a_file_of_the_purpose_or_an_error_at_their_pointer(admin: Credential) -> None:
    file = response_json(_upload_file(admin.secret))
    service = file_service()

    ready = service.ready_for("acme", file["id"], FilePurpose.BATCH, "/input_file_id")
    with pytest.raises(UnusableFileError) as wrong_purpose:
        service.ready_for("acme", file["id"], FilePurpose.BATCH_OUTPUT, "/input_file_id")
    with pytest.raises(UnusableFileError) as foreign:
        service.ready_for("globex", file["id"], FilePurpose.BATCH, "/input_file_id")

    assert (ready.id, ready.size, ready.key) == (file["id"], len(LINES), f"uploads/acme/{file['id']}")
    assert wrong_purpose.value.errors == [
        FieldError("/input_file_id", "The file's purpose is batch, not batch_output.")
    ]
    assert foreign.value.errors == [FieldError("/input_file_id", f"No such File object: {file['id']}")]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/v1/files/file_x/other", 404), ("GET", "/v1/files/a/b/content", 404), ("PUT", "/v1/files", 405)],
)
def test_a_path_under_v1_files_that_no_route_serves_is_answered_in_openai_s_shape(
    admin: Credential, method: str, path: str, status: int
) -> None:
    error = _openai_error(call(method, path, headers=bearer(admin.secret)), status)

    assert error["type"] == "invalid_request_error"


@pytest.mark.parametrize(("method", "path"), [("DELETE", "/v1/uploads/upl_x"), ("GET", "/v1/uploads/upl_x/parts/y")])
def test_a_path_under_v1_uploads_that_no_route_serves_carries_openai_s_error_member(
    admin: Credential, method: str, path: str
) -> None:
    answered = call(method, path, headers=bearer(admin.secret))

    assert answered["statusCode"] in (404, 405), answered
    document = response_json(answered)
    assert document["status"] == answered["statusCode"]
    assert set(document["error"]) == {"message", "type", "param", "code"}


def test_a_file_past_its_expiry_is_gone_before_ttl_deletes_it(admin: Credential) -> None:
    # DynamoDB's TTL deletes lazily (within days): until then the item is there, and must not be served.
    kept = response_json(_upload_file(admin.secret))
    expired = response_json(_upload_file(admin.secret))
    dynamodb_client().update_item(
        TableName=settings(StoreSettings).table_name,
        Key={"PK": {"S": "TENANT#acme"}, "SK": {"S": f"FILE#{expired['id']}"}},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 1)}},
    )

    gone = call("GET", f"/v1/files/{expired['id']}", headers=bearer(admin.secret))
    listed = response_json(call("GET", "/v1/files", headers=bearer(admin.secret)))

    assert _openai_error(gone, 404)["message"] == f"No such File object: {expired['id']}"
    assert [file["id"] for file in listed["data"]] == [kept["id"]]
