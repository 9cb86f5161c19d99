"""Create the template's tables, queues and secrets in an AWS endpoint (moto) and resolve references.

Used by the local stack (moto in server mode) and by the integration tests (``mock_aws``), so both
run against exactly the resources ``template.yaml`` declares.
"""

import json
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import boto3

from tools.template import Template

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient

_TABLE_KEYS = (
    "AttributeDefinitions",
    "KeySchema",
    "BillingMode",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
)
_QUEUE_ATTRIBUTES = (
    "VisibilityTimeout",
    "MessageRetentionPeriod",
    "DelaySeconds",
    "ReceiveMessageWaitTimeSeconds",
    "MaximumMessageSize",
)


@dataclass
class Stack:
    """Physical names of what was created, by logical id, and how to resolve intrinsics."""

    prefix: str
    # Values that only exist once deployed (API_BASE_URL is a !Sub of the API's id) and local-only settings.
    overrides: dict[str, str] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)
    arns: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and "Ref" in value:
            name = value["Ref"]
            return self.refs[name] if name in self.refs else self.parameters[name]
        if isinstance(value, dict) and "Fn::Sub" in value:
            raise ValueError(f"{value} only resolves once deployed: pass a local override")
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            logical, attribute = value["Fn::GetAtt"]
            if attribute != "Arn":
                raise ValueError(f"unsupported attribute {logical}.{attribute}")
            return self.arns[logical]
        return value

    def environment(self, variables: dict[str, Any]) -> dict[str, str]:
        resolved = {name: self.overrides.get(name) or str(self.resolve(value)) for name, value in variables.items()}
        return {**resolved, **{k: v for k, v in self.overrides.items() if k not in resolved and k in LOCAL_ONLY}}


DEFAULT_LOCAL_BASE_URL = "http://127.0.0.1:8000"
LOCAL_ONLY = frozenset({"WEBHOOKS_ALLOW_INSECURE"})  # never set in template.yaml


def provision(
    template: Template,
    prefix: str = "infergate",
    *,
    overrides: dict[str, str] | None = None,
    dynamodb: "DynamoDBClient | None" = None,
    sqs: "SQSClient | None" = None,
    secretsmanager: "SecretsManagerClient | None" = None,
    s3: "S3Client | None" = None,
) -> Stack:
    dynamodb = dynamodb or boto3.client("dynamodb")
    s3 = s3 or boto3.client("s3")
    sqs = sqs or boto3.client("sqs")
    secretsmanager = secretsmanager or boto3.client("secretsmanager")
    stack = Stack(
        prefix=prefix,
        overrides={"API_BASE_URL": DEFAULT_LOCAL_BASE_URL, **(overrides or {})},
        parameters=template.parameter_defaults(),
    )
    for logical_id, resource in template.of_type("AWS::DynamoDB::Table").items():
        _create_table(dynamodb, stack, logical_id, resource["Properties"])
    queues = template.of_type("AWS::SQS::Queue")
    # Dead-letter queues first, so redrive policies can point at them.
    ordered = sorted(queues, key=lambda name: "RedrivePolicy" in queues[name]["Properties"])
    for logical_id in ordered:
        _create_queue(sqs, stack, logical_id, queues[logical_id]["Properties"])
    for logical_id in template.of_type("AWS::SecretsManager::Secret"):
        name = f"{prefix}-{logical_id}"
        arn = secretsmanager.create_secret(Name=name, SecretString=secrets.token_urlsafe(48))["ARN"]
        stack.refs[logical_id] = arn
        stack.arns[logical_id] = arn
    for logical_id in template.of_type("AWS::S3::Bucket"):
        bucket = f"{prefix}-{logical_id}".lower()
        s3.create_bucket(Bucket=bucket)
        stack.refs[logical_id] = bucket
        stack.arns[logical_id] = f"arn:aws:s3:::{bucket}"
    for logical_id in template.of_type("AWS::Serverless::Function"):
        # Functions are not created in the emulator: the local stack runs them in-process.
        name = f"{prefix}-{logical_id}"
        stack.refs[logical_id] = name
        stack.arns[logical_id] = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    return stack


def _create_table(client: "DynamoDBClient", stack: Stack, logical_id: str, props: dict[str, Any]) -> None:
    name = f"{stack.prefix}-{logical_id}"
    request: dict[str, Any] = {key: props[key] for key in _TABLE_KEYS if key in props}
    if "SSESpecification" in props:  # CloudFormation says SSEEnabled where the API says Enabled
        request["SSESpecification"] = {"Enabled": bool(props["SSESpecification"].get("SSEEnabled", False))}
    client.create_table(TableName=name, **request)
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        client.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": ttl["Enabled"]}
        )
    stack.refs[logical_id] = name
    stack.arns[logical_id] = client.describe_table(TableName=name)["Table"]["TableArn"]


def _create_queue(client: "SQSClient", stack: Stack, logical_id: str, props: dict[str, Any]) -> None:
    name = f"{stack.prefix}-{logical_id}"
    attributes: dict[str, Any] = {key: str(props[key]) for key in _QUEUE_ATTRIBUTES if key in props}
    redrive = props.get("RedrivePolicy")
    if redrive:
        target = stack.resolve(redrive["deadLetterTargetArn"])
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": target, "maxReceiveCount": int(redrive["maxReceiveCount"])}
        )
    url = client.create_queue(QueueName=name, Attributes=cast(Any, attributes))["QueueUrl"]
    stack.refs[logical_id] = url
    stack.arns[logical_id] = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]


def function_environment(template: Template, stack: Stack) -> dict[str, str]:
    """The union of every function's environment; the local stack runs all functions in one process."""
    merged: dict[str, str] = {}
    for spec in template.functions:
        for name, value in stack.environment(spec.environment).items():
            if merged.get(name, value) != value:
                raise RuntimeError(f"functions disagree on {name}; the local stack cannot host both")
            merged[name] = value
    return merged
