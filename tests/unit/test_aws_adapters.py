"""S3 and Lambda adapters: AWS faults become TransientError, a missing object is None, never a crash."""

import io
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from shared.adapters.lambda_inspector import LambdaArtifactInspector
from shared.adapters.s3.objects import S3ObjectStore
from shared.kernel.errors import TransientError
from shared.registry.inspector_contract import Accepted, InspectRequest, Rejected

REQUEST = InspectRequest(upload_key="uploads/t/upl_1", size=10, destination_prefix="artifacts/t/m/")


def _s3() -> Any:
    return boto3.client("s3", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")


def _lambda() -> Any:
    return boto3.client("lambda", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")


def _payload(value: Any) -> StreamingBody:
    raw = json.dumps(value).encode()
    return StreamingBody(io.BytesIO(raw), len(raw))


def test_head_of_a_missing_object_is_none_and_throttling_is_transient() -> None:
    client = _s3()
    store = S3ObjectStore("bucket", client)
    with Stubber(client) as stub:
        stub.add_client_error("head_object", service_error_code="404", http_status_code=404)
        stub.add_client_error("head_object", service_error_code="SlowDown", http_status_code=503)
        stub.add_client_error("head_object", service_error_code="AccessDenied", http_status_code=403)

        assert store.head("k") is None
        with pytest.raises(TransientError):
            store.head("k")
        with pytest.raises(Exception, match="AccessDenied"):
            store.head("k")


def test_downloads_and_uploads_that_fail_are_transient_or_raised(tmp_path: Path) -> None:
    client = _s3()
    store = S3ObjectStore("bucket", client)
    with Stubber(client) as stub:
        stub.add_client_error("head_object", service_error_code="InternalError", http_status_code=500)
        with pytest.raises(TransientError):
            store.download("k", tmp_path / "f")
    source = tmp_path / "source"
    source.write_bytes(b"data")
    with Stubber(client) as stub:
        stub.add_client_error("put_object", service_error_code="ServiceUnavailable", http_status_code=503)
        with pytest.raises(TransientError):
            store.upload(source, "k", "application/octet-stream")


def test_the_inspector_verdicts_are_read_from_the_payload() -> None:
    client = _lambda()
    inspector = LambdaArtifactInspector("inspector", client)
    accepted = {
        "ok": True,
        "sha256": "a" * 64,
        "size": 10,
        "location": "artifacts/t/m/a.onnx",
        "inputs": [],
        "outputs": [],
    }
    with Stubber(client) as stub:
        stub.add_response("invoke", {"StatusCode": 200, "Payload": _payload({"result": accepted})})
        stub.add_response("invoke", {"StatusCode": 200, "Payload": _payload({"result": {"ok": False, "reason": "no"}})})

        assert isinstance(inspector.inspect(REQUEST), Accepted)
        assert inspector.inspect(REQUEST) == Rejected(reason="no")


@pytest.mark.parametrize(
    "response",
    [
        {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": _payload({"errorMessage": "boom"})},
        {"StatusCode": 200, "Payload": _payload({"something": "else"})},
        {"StatusCode": 200, "Payload": StreamingBody(io.BytesIO(b"not json"), 8)},
    ],
    ids=["function-error", "unexpected-shape", "not-json"],
)
def test_an_inspector_that_fails_is_a_transient_error(response: dict[str, Any]) -> None:
    client = _lambda()
    with Stubber(client) as stub:
        stub.add_response("invoke", response)
        with pytest.raises(TransientError):
            LambdaArtifactInspector("inspector", client).inspect(REQUEST)


def test_an_unreachable_inspector_is_a_transient_error() -> None:
    client = _lambda()
    with Stubber(client) as stub:
        stub.add_client_error("invoke", service_error_code="TooManyRequestsException", http_status_code=429)
        with pytest.raises(TransientError):
            LambdaArtifactInspector("inspector", client).inspect(REQUEST)
