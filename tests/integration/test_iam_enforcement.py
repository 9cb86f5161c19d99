"""The emulator refuses what AWS would: each function acts as its own role (tools.enforcement)."""

import os
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest
import requests
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.config import Config
from botocore.exceptions import ClientError

from shared.adapters.secrets_manager import secret_bytes
from shared.wiring import object_store
from tools.aws_identity import as_function
from tools.iam_audit import AUDIT_DIR_VARIABLE, Decision, read_folder, take_refusals
from tools.provision import ACCOUNT_ID, REGION, Stack

TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/test-Table"


def refused(call: Callable[[], object]) -> str:
    """The error code of a call that fails (the refusals it records are taken by each test: the stack fixture
    fails a test for any left)."""
    with pytest.raises(ClientError) as raised:
        call()
    return str(raised.value.response["Error"]["Code"])


def test_a_function_is_refused_what_its_role_does_not_grant_and_the_refusal_names_it(stack: Stack) -> None:
    dynamodb = boto3.client("dynamodb")

    with as_function("GetHealthFunction"):
        code = refused(
            lambda: dynamodb.put_item(TableName=stack.refs["Table"], Item={"PK": {"S": "X"}, "SK": {"S": "Y"}})
        )

    assert code == "AccessDeniedException"
    assert take_refusals() == [Decision("GetHealthFunction", "dynamodb:PutItem", TABLE_ARN, allowed=False)]


def test_the_operator_outside_any_function_may_do_anything(
    stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(AUDIT_DIR_VARIABLE, str(tmp_path))  # every decision, allowed ones too

    boto3.client("dynamodb").put_item(TableName=stack.refs["Table"], Item={"PK": {"S": "X"}, "SK": {"S": "Y"}})

    assert take_refusals() == []
    assert list(read_folder(tmp_path)) == [Decision("test-operator", "dynamodb:PutItem", TABLE_ARN, allowed=True)]


def test_the_rate_limit_policy_reaches_rate_items_only(stack: Stack) -> None:
    """ApiCallerPolicy's UpdateItem carries dynamodb:LeadingKeys RATE#*: evaluated, not skipped."""
    dynamodb = boto3.client("dynamodb")
    table = stack.refs["Table"]

    def update(key: str) -> object:
        return dynamodb.update_item(
            TableName=table,
            Key={"PK": {"S": key}, "SK": {"S": key}},
            UpdateExpression="SET n = :n",
            ExpressionAttributeValues={":n": {"N": "1"}},
        )

    with as_function("GetPredictionFunction"):
        update("RATE#key#k_1")
        code = refused(lambda: update("PREDICTION#p_1"))

    assert code == "AccessDeniedException"
    assert take_refusals() == [Decision("GetPredictionFunction", "dynamodb:UpdateItem", TABLE_ARN, allowed=False)]


def test_a_presigned_url_carries_its_signers_rights(stack: Stack) -> None:
    bucket = stack.refs["ArtifactsBucket"]
    boto3.client("s3").put_object(Bucket=bucket, Key="uploads/f.jsonl", Body=b"model")
    s3 = boto3.client("s3", config=Config(signature_version="s3v4"))  # as the service signs
    with as_function("GetFileContentFunction"):  # may read uploads: s3:GetObject on uploads/*
        allowed = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "uploads/f.jsonl"})
    with as_function("GetHealthFunction"):  # may not
        refused_url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "uploads/f.jsonl"})

    assert requests.get(allowed, timeout=10).content == b"model"
    assert requests.get(refused_url, timeout=10).status_code == 403
    assert [(d.principal, d.action) for d in take_refusals()] == [("GetHealthFunction", "s3:GetObject")]


def test_credentials_the_emulator_never_issued_are_refused(stack: Stack) -> None:
    stranger = boto3.client("dynamodb", aws_access_key_id="AKIASTRANGER00000000", aws_secret_access_key="x")

    assert refused(lambda: stranger.describe_table(TableName=stack.refs["Table"])) == "UnrecognizedClientException"
    assert [(d.principal, d.allowed) for d in take_refusals()] == [("AKIASTRANGER00000000", False)]


def test_only_a_role_granted_lambda_invoke_may_invoke_a_function(stack: Stack) -> None:
    payload = b'{"Records": []}'
    client = boto3.client("lambda")
    name = stack.refs["InspectModelArtifactFunction"]

    with as_function("CreateModelVersionFunction"):  # its role may invoke the inspector
        assert client.invoke(FunctionName=name, Payload=payload)["StatusCode"] == 200
    with as_function("GetModelFunction"):
        code = refused(lambda: client.invoke(FunctionName=name, Payload=payload))

    assert code == "AccessDeniedException"
    function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"
    assert take_refusals() == [Decision("GetModelFunction", "lambda:InvokeFunction", function_arn, allowed=False)]


def test_a_secret_read_through_powertools_is_the_functions_own(stack: Stack) -> None:
    """Powertools builds its own client unless given one: the adapter gives it the container's."""
    with as_function("GetHealthFunction"), pytest.raises(GetParameterError, match="AccessDeniedException"):
        secret_bytes(os.environ["CURSOR_SECRET_ARN"], 0)  # no secretsmanager:GetSecretValue
    with as_function("ListPredictionsFunction"):
        assert secret_bytes(os.environ["CURSOR_SECRET_ARN"], 0)

    refusals = [(d.principal, d.action) for d in take_refusals()]
    assert refusals == [("GetHealthFunction", "secretsmanager:GetSecretValue")]


def test_calls_on_threads_a_function_starts_sign_as_that_function(stack: Stack, tmp_path: Path) -> None:
    """boto3's download_file reads on s3transfer's threads: they act as the function, as in Lambda."""
    boto3.client("s3").put_object(Bucket=stack.refs["ArtifactsBucket"], Key="artifacts/m.onnx", Body=b"model")

    with as_function("GetHealthFunction"):  # no s3:GetObject
        code = refused(lambda: object_store().download("artifacts/m.onnx", tmp_path / "m.onnx"))
    with as_function("PredictModelFunction"):  # s3:GetObject on artifacts/*
        object_store().download("artifacts/m.onnx", tmp_path / "m.onnx")

    assert code == "AccessDenied"
    assert (tmp_path / "m.onnx").read_bytes() == b"model"
    assert {(d.principal, d.action) for d in take_refusals()} == {("GetHealthFunction", "s3:GetObject")}


def test_a_presigned_put_takes_only_the_type_and_size_it_was_signed_for(stack: Stack) -> None:
    with as_function("CreateUploadFunction"):  # signs Content-Type and Content-Length, as the service does
        put = object_store().presign_put("uploads/t/u1", "application/jsonl", 5, 60)

    other_type = requests.put(put.url, data=b"01234", headers={**put.headers, "Content-Type": "text/html"}, timeout=10)
    other_size = requests.put(put.url, data=b"0123456789", headers={**put.headers, "Content-Length": "10"}, timeout=10)
    signed = requests.put(put.url, data=b"01234", headers=put.headers, timeout=10)

    assert (other_type.status_code, other_size.status_code, signed.status_code) == (403, 403, 200)
    assert [refusal.reason.split(":")[0] for refusal in take_refusals()] == ["SignatureDoesNotMatch"] * 2


def test_reading_a_missing_key_needs_list_bucket_as_in_s3(stack: Stack) -> None:
    """Without s3:ListBucket, S3 answers a missing key with 403, not 404: code that expects "missing" breaks."""
    s3 = boto3.client("s3")
    bucket = stack.refs["ArtifactsBucket"]

    with as_function("GetFileContentFunction"):  # s3:GetObject on uploads/*, no s3:ListBucket
        code = refused(lambda: s3.get_object(Bucket=bucket, Key="uploads/t/missing"))
    with as_function("ProcessBatchesFunction"):  # both: a missing key is a 404
        missing = refused(lambda: s3.get_object(Bucket=bucket, Key="uploads/t/missing"))

    assert (code, missing) == ("AccessDenied", "NoSuchKey")
    assert take_refusals() == [
        Decision("GetFileContentFunction", "s3:ListBucket", f"arn:aws:s3:::{bucket}", allowed=False)
    ]


def test_a_copy_reads_its_source_with_the_callers_role(stack: Stack) -> None:
    s3 = boto3.client("s3")
    bucket = stack.refs["ArtifactsBucket"]
    s3.put_object(Bucket=bucket, Key="artifacts/m.onnx", Body=b"model")

    with as_function("CreateUploadFunction"):  # s3:PutObject on uploads/*, no s3:GetObject on artifacts/*
        code = refused(
            lambda: s3.copy_object(
                Bucket=bucket, Key="uploads/t/m", CopySource={"Bucket": bucket, "Key": "artifacts/m.onnx"}
            )
        )

    assert code == "AccessDenied"
    assert [(d.action, d.resource) for d in take_refusals()] == [
        ("s3:GetObject", f"arn:aws:s3:::{bucket}/artifacts/m.onnx")
    ]


def test_an_invoke_must_be_signed_by_the_key_it_names(stack: Stack) -> None:
    """The operator's access key id is in the state file: naming it without its secret is not enough."""
    name = stack.refs["InspectModelArtifactFunction"]
    operator_key = os.environ["AWS_ACCESS_KEY_ID"]  # the test acts as the operator
    forged = {
        "Authorization": f"AWS4-HMAC-SHA256 Credential={operator_key}/20261206/us-east-1/lambda/aws4_request, "
        f"SignedHeaders=host;x-amz-date, Signature={'0' * 64}",
        "X-Amz-Date": "20261206T000000Z",
    }

    url = f"{os.environ['AWS_ENDPOINT_URL_LAMBDA']}/2015-03-31/functions/{name}/invocations"
    answer = requests.post(url, data=b'{"Records": []}', headers=forged, timeout=10)
    signed = boto3.client("lambda").invoke(FunctionName=name, Payload=b'{"Records": []}')

    assert (answer.status_code, answer.headers["X-Amzn-ErrorType"], signed["StatusCode"]) == (
        403,
        "AccessDeniedException",
        200,
    )
    assert [(d.action, d.allowed, d.reason) for d in take_refusals()] == [("lambda:InvokeFunction", False, "signature")]
