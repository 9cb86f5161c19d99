"""The client side of registering a model: create an upload, PUT the file to its URL, register a version."""

from typing import Any

import requests

from tests.support.events import bearer, response_json
from tests.support.gateway import call


def create_upload(secret: str, size: int, purpose: str = "model_artifact", content_type: str | None = None) -> Any:
    content_type = content_type or ("application/octet-stream" if purpose == "model_artifact" else "application/jsonl")
    body = {"purpose": purpose, "content_type": content_type, "size": size}
    return response_json(call("POST", "/v1/uploads", body=body, headers=bearer(secret)))


def put_file(upload: dict[str, Any], data: bytes) -> None:
    """What a client does with the presigned URL (moto answers it in-process or over HTTP)."""
    response = requests.put(upload["url"], data=data, headers=upload["headers"], timeout=30)
    response.raise_for_status()


def upload_file(secret: str, data: bytes, purpose: str = "model_artifact") -> str:
    upload = create_upload(secret, len(data), purpose)
    put_file(upload, data)
    return str(upload["id"])


def register(secret: str, name: str, upload_id: str, schemas: tuple[Any, Any], **extra: Any) -> dict[str, Any]:
    body = {"runtime": "onnx", "upload_id": upload_id, "input_schema": schemas[0], "output_schema": schemas[1]}
    response: dict[str, Any] = call(
        "POST", f"/v1/models/{name}/versions", body={**body, **extra}, headers=bearer(secret)
    )
    return response


def store_unchecked_version(tenant: str, name: str, input_schema: dict[str, Any]) -> int:
    """A version written straight to the table, past registration's checks (as versions stored before a
    check existed were): the latest version's artifact and tensors under another input schema."""
    from shared.kernel.clock import to_rfc3339, utc_now
    from shared.registry.models import NewVersion
    from shared.wiring import model_store

    store = model_store()
    latest = store.get_version(tenant, name, None)
    assert latest is not None
    assert latest.artifact is not None
    new = NewVersion(
        name,
        "onnx",
        input_schema,
        latest.output_schema,
        "stored unchecked",
        latest.artifact,
        latest.inputs,
        latest.outputs,
    )
    return store.add_version(tenant, new, to_rfc3339(utc_now())).version


def register_text_model(secret: str, name: str) -> None:
    """The tests' tiny feature-extraction model, uploaded and registered through the real handlers."""
    from tests.support.text_models import files, tar_gz  # onnx and tokenizers: only for the tests that use them

    archive = tar_gz(files())
    upload = create_upload(secret, len(archive), content_type="application/gzip")
    put_file(upload, archive)
    body = {"runtime": "text", "upload_id": upload["id"], "text": {"task": "feature-extraction"}}
    registered = call("POST", f"/v1/models/{name}/versions", body=body, headers=bearer(secret))
    assert registered["statusCode"] == 201, response_json(registered)
