"""Each function's execution role as ``sam deploy`` creates it, in the emulator, and an operator identity.

The role's documents come from the translated template (``FunctionSpec.role_policies``: inline policies
with SAM's policy templates expanded; ``managed_policy_arns``: the template's own managed policies and
AWS's, whose documents moto ships), resolved against the local resources' ARNs. A function's role is
created and assumed (``sts:AssumeRole``, the session named after the function) the first time the
function runs, or all at once (:meth:`LocalRoles.create_all`).
"""

import json
import threading
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from tools.aws_identity import AccessKey
from tools.provision import Stack
from tools.template import Template

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_sts import STSClient

OPERATOR = "operator"  # how the operator is named where a function's logical id would be
_LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
_EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def role_documents(template: Template) -> dict[str, list[dict[str, Any]]]:
    """Every policy document of each function's execution role as the template writes it (references
    unresolved), by the function's logical id: its inline policies, then its managed policies'."""
    return {
        spec.logical_id: [*spec.role_policies, *(_managed_document(template, arn) for arn in spec.managed_policy_arns)]
        for spec in template.functions
    }


def function_policies(template: Template, stack: Stack) -> dict[str, list[dict[str, Any]]]:
    """:func:`role_documents`, resolved against the local resources' ARNs."""
    return {name: [stack.resolve(doc) for doc in docs] for name, docs in role_documents(template).items()}


def _managed_document(template: Template, arn: Any) -> dict[str, Any]:
    if isinstance(arn, dict):  # {"Ref": <the template's AWS::IAM::ManagedPolicy>}
        document: dict[str, Any] = template.resources[arn["Ref"]]["Properties"]["PolicyDocument"]
        return document
    return dict(_aws_managed_policies()[arn.rsplit("/", 1)[-1]]["Document"])


@cache
def _aws_managed_policies() -> dict[str, Any]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    policies: dict[str, Any] = json.loads(aws_managed_policies_data)
    return policies


def create_operator(iam: "IAMClient", name: str) -> AccessKey:
    """An IAM user allowed everything, as a person deploying the stack is: the local stack's tools act as it."""
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="everything", PolicyDocument=json.dumps(_EVERYTHING))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return AccessKey(key["AccessKeyId"], key["SecretAccessKey"])


def assume(sts: "STSClient", role_arn: str, session_name: str) -> AccessKey:
    found = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name)["Credentials"]
    return AccessKey(found["AccessKeyId"], found["SecretAccessKey"], found["SessionToken"])


@dataclass
class LocalRoles:
    """The functions' roles in the emulator, created by the ``operator`` with ``iam`` and assumed with ``sts``."""

    template: Template
    stack: Stack
    operator: AccessKey
    iam: "IAMClient"
    sts: "STSClient"
    policies: dict[str, list[dict[str, Any]]] = field(init=False)
    role_arns: dict[str, str] = field(default_factory=dict)
    _credentials: dict[str, AccessKey] = field(default_factory=dict)
    _managed: dict[str, str] = field(default_factory=dict)  # template or AWS managed policy -> local ARN
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.policies = function_policies(self.template, self.stack)

    def credentials(self, logical_id: str) -> AccessKey:
        """The function's role's credentials, assumed through STS (the role created on first use)."""
        with self._lock:
            if logical_id not in self._credentials:
                role_arn = self._create_role(logical_id)
                credentials = assume(self.sts, role_arn, logical_id)
                self._credentials[logical_id] = credentials
            return self._credentials[logical_id]

    def create_all(self) -> None:
        for spec in self.template.functions:
            self.credentials(spec.logical_id)

    def identify(self, access_key_id: str) -> tuple[str, AccessKey] | None:
        """Who holds ``access_key_id`` (a function's logical id, or ``operator``) and their credentials."""
        if access_key_id == self.operator.access_key:
            return OPERATOR, self.operator
        with self._lock:
            found = [(name, key) for name, key in self._credentials.items() if key.access_key == access_key_id]
        return found[0] if found else None

    def _create_role(self, logical_id: str) -> str:
        spec = self.template.function(logical_id)
        name = f"{self.stack.prefix}-{spec.role or logical_id}"[:64]
        arn = self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(_LAMBDA_TRUST))["Role"]["Arn"]
        for number, document in enumerate(spec.role_policies):
            self.iam.put_role_policy(
                RoleName=name,
                PolicyName=f"{name}Policy{number}",
                PolicyDocument=json.dumps(self.stack.resolve(document)),
            )
        for managed in spec.managed_policy_arns:
            self.iam.attach_role_policy(RoleName=name, PolicyArn=self._managed_policy(managed))
        self.role_arns[logical_id] = arn
        return arn

    def _managed_policy(self, arn: Any) -> str:
        """The local copy of a managed policy: the template's own, or an AWS managed one (moto ships its document)."""
        name = arn["Ref"] if isinstance(arn, dict) else arn.rsplit("/", 1)[-1]
        if name not in self._managed:
            document = self.stack.resolve(_managed_document(self.template, arn))
            created = self.iam.create_policy(
                PolicyName=f"{self.stack.prefix}-{name}", PolicyDocument=json.dumps(document)
            )
            self._managed[name] = created["Policy"]["Arn"]
        return self._managed[name]
