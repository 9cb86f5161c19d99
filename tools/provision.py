"""Create the template's tables, queues and secrets in an AWS endpoint (moto) and resolve references.

Used by the local stack (moto in server mode) and by the integration tests (``mock_aws``), so both
run against exactly the resources ``template.yaml`` declares.
"""

import copy
import json
import re
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import boto3
from samtranslator.intrinsics.actions import GetAttAction, RefAction, SubAction
from samtranslator.intrinsics.resolver import IntrinsicsResolver

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
        """``value`` with its ``Ref``, ``Fn::GetAtt`` and ``Fn::Sub`` resolved against what was created.

        The SAM translator's own resolver does the work, with the created resources' names and ARNs,
        the parameters' defaults and the pseudo parameters as its symbols.
        """
        resolved = _substituted(_resolver(self).resolve_parameter_refs(copy.deepcopy(value)))
        if _has_intrinsic(resolved):
            raise ValueError(f"{value} only resolves once deployed: pass a local override")
        return resolved

    def symbols(self) -> dict[str, Any]:
        """What a ``Ref`` or a ``${...}`` may name: parameters, pseudo parameters, logical ids, ``Id.Arn``."""
        parameters = {name: str(value) for name, value in self.parameters.items() if value is not None}
        pseudo = {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self.prefix,
        }
        arns = {f"{logical_id}.Arn": arn for logical_id, arn in self.arns.items()}
        return {**parameters, **pseudo, **self.refs, **arns}

    def environment(self, variables: dict[str, Any]) -> dict[str, str]:
        resolved = {name: self.overrides.get(name) or str(self.resolve(value)) for name, value in variables.items()}
        return {**resolved, **{k: v for k, v in self.overrides.items() if k not in resolved and k in LOCAL_ONLY}}


DEFAULT_LOCAL_BASE_URL = "http://127.0.0.1:8000"
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account: the ARNs of the emulated resources carry it
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
        stack.arns[logical_id] = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"
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


def function_environments(template: Template, stack: Stack) -> dict[str, dict[str, str]]:
    """Each function's whole environment, by logical id, resolved against the created resources."""
    return {spec.logical_id: stack.environment(spec.environment) for spec in template.functions}


def function_environment(template: Template, stack: Stack) -> dict[str, str]:
    """The union of every function's environment; the local stack runs all functions in one process."""
    merged: dict[str, str] = {}
    for environment in function_environments(template, stack).values():
        for name, value in environment.items():
            if merged.get(name, value) != value:
                raise RuntimeError(f"functions disagree on {name}; the local stack cannot host both")
            merged[name] = value
    return merged


def _substituted(value: Any) -> Any:
    """Each ``Fn::Sub`` whose variables were all resolved, as its text (the resolver leaves the ``Fn::Sub``)."""
    if isinstance(value, list):
        return [_substituted(item) for item in value]
    if not isinstance(value, dict):
        return value
    value = {key: _substituted(item) for key, item in value.items()}
    if set(value) != {"Fn::Sub"}:
        return value
    text, variables = (value["Fn::Sub"], {}) if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"]
    if not (isinstance(text, str) and all(isinstance(item, str) for item in variables.values())):
        return value
    for name, item in variables.items():
        text = text.replace(f"${{{name}}}", item)
    if re.search(r"\$\{[^!]", text):
        return {"Fn::Sub": text}
    return text.replace("${!", "${")


def _has_intrinsic(value: Any) -> bool:
    if isinstance(value, dict):
        if len(value) == 1 and any(key == "Ref" or key.startswith("Fn::") for key in value):
            return True
        return any(_has_intrinsic(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_intrinsic(item) for item in value)
    return False


class _LocalGetAtt(GetAttAction):  # type: ignore[misc]  # samtranslator ships no type information
    """``Fn::GetAtt`` looked up in the symbols (``Id.Arn``); SAM's own action leaves it to CloudFormation."""

    def resolve_parameter_refs(self, input_dict: Any, parameters: dict[str, Any]) -> Any:
        if not self.can_handle(input_dict):
            return input_dict
        target = input_dict[self.intrinsic_name]
        if isinstance(target, list) and len(target) == 2 and all(isinstance(part, str) for part in target):
            return parameters.get(".".join(target), input_dict)
        return input_dict


_INTRINSICS = {"Ref": RefAction(), "Fn::Sub": SubAction(), "Fn::GetAtt": _LocalGetAtt()}


def _resolver(stack: Stack) -> Any:
    return IntrinsicsResolver(stack.symbols(), _INTRINSICS)
