"""The emulator refuses what AWS would: each function acts as its own role (tools.enforcement)."""

from collections.abc import Callable

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from tools.aws_identity import as_function
from tools.iam_audit import Decision, take_refusals
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


def test_the_operator_outside_any_function_may_do_anything(stack: Stack) -> None:
    boto3.client("dynamodb").put_item(TableName=stack.refs["Table"], Item={"PK": {"S": "X"}, "SK": {"S": "Y"}})

    assert take_refusals() == []


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
    s3 = boto3.client("s3")
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
