"""Operator commands (``infergate admin``): what takes an operator's AWS credentials, not an API key.

They run in the stack's ``RunAdminCommandFunction``, invoked with ``lambda:InvokeFunction`` under the
caller's own AWS credentials (boto3's usual chain: environment, profile, SSO ...): mint a tenant's first
key, look into the dead-letter queues, move their messages back. Needs boto3:
``pip install 'infergate[admin]'``.

    Admin(AdminTarget.of_stack("infergate")).mint_key("acme")    # a deployed stack, by its outputs
    Admin(AdminTarget.local()).redrive("webhooks")                 # the running `make dev` stack
"""

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infergate.errors import InfergateError

ADMIN_FUNCTION_OUTPUT = "AdminFunctionName"  # the stack output naming the function
ADMIN_FUNCTION = "RunAdminCommandFunction"  # its logical id, as the local stack's state file names it
LOCAL_STATE_VARIABLE = "INFERGATE_DEV_STATE_FILE"
LOCAL_STATE_FILE = ".infergate-dev.json"  # written by `make dev` at the root of its checkout
LOCAL_REGION = "us-east-1"
# The function's own timeout is 120 s: wait longer for its answer, and never re-invoke on a lost answer
# (botocore retries read timeouts by default): a second mint would make a second live key, and a second
# redrive would run beside the first.
INVOKE_READ_TIMEOUT = 130
MAX_REDRIVE_CALLS = 10_000  # 10 million messages at 1,000 a call: a loop that never ends is a bug
DEAD_LETTER_QUEUES = ("predictions", "batches", "webhooks")


class AdminError(InfergateError):
    """An operator command could not run: ``kind`` says why (the function's own error type, or
    ``function-error``, ``unexpected-answer``)."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


class AdminTargetError(AdminError):
    """There is nothing to invoke: no such stack or output, no local stack running, or no boto3."""


class AdminCommandError(AdminError):
    """The function refused the command as given (``invalid-command``, ``invalid-tenant``); nothing changed."""


@dataclass(frozen=True)
class AdminTarget:
    """The function to invoke and how to reach it (``None``: boto3's defaults)."""

    function_name: str
    region: str | None = None
    endpoint_url: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)

    @classmethod
    def of_stack(cls, stack_name: str, region: str | None = None) -> "AdminTarget":
        """A deployed stack: its ``AdminFunctionName`` output (``cloudformation:DescribeStacks``)."""
        boto3, botocore = _boto3()
        try:
            cloudformation = boto3.client("cloudformation", region_name=region)
            stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
        except botocore.exceptions.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            kind = "stack-not-found" if code == "ValidationError" else "aws-error"
            raise AdminTargetError(kind, f"{stack_name}: {exc}") from exc
        except botocore.exceptions.BotoCoreError as exc:  # no credentials, no region, no connection
            raise AdminTargetError("aws-error", str(exc)) from exc
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
        if ADMIN_FUNCTION_OUTPUT not in outputs:
            raise AdminTargetError("stack-not-found", f"stack {stack_name} has no {ADMIN_FUNCTION_OUTPUT} output")
        return cls(outputs[ADMIN_FUNCTION_OUTPUT], region=region)

    @classmethod
    def local(cls, state_file: Path | None = None) -> "AdminTarget":
        """The running local stack, from the state file it writes (``$INFERGATE_DEV_STATE_FILE``, else
        ``.infergate-dev.json`` here): its Lambda endpoint and the operator's credentials."""
        path = state_file or Path(os.environ.get(LOCAL_STATE_VARIABLE) or LOCAL_STATE_FILE)
        try:
            state: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise AdminTargetError("no-local-stack", f"no {path}: is `make dev` running (from this folder)?") from None
        except (OSError, ValueError) as exc:
            raise AdminTargetError("no-local-stack", f"{path} is not a local stack's state file: {exc}") from None
        try:
            return cls(
                function_name=state["resources"][ADMIN_FUNCTION],
                region=LOCAL_REGION,
                endpoint_url=state["lambda_endpoint_url"],
                access_key_id=state["operator"]["access_key_id"],
                secret_access_key=state["operator"]["secret_access_key"],
            )
        except (KeyError, TypeError) as missing:
            raise AdminTargetError("no-local-stack", f"{path} names no {missing}: restart `make dev`") from None


class Admin:
    """The operator commands of one stack."""

    def __init__(self, target: AdminTarget, lambda_client: Any | None = None) -> None:
        self.target = target
        self._lambda = lambda_client or self._client(target)

    @staticmethod
    def _client(target: AdminTarget) -> Any:
        boto3, botocore = _boto3()
        config = botocore.config.Config(read_timeout=INVOKE_READ_TIMEOUT, retries={"total_max_attempts": 1})
        return boto3.client(
            "lambda",
            region_name=target.region,
            endpoint_url=target.endpoint_url,
            aws_access_key_id=target.access_key_id,
            aws_secret_access_key=target.secret_access_key,
            config=config,
        )

    def mint_key(
        self, tenant: str, name: str = "bootstrap admin", scopes: Sequence[str] = ("admin",)
    ) -> dict[str, Any]:
        """A new key of ``tenant``: ``{"id", "tenant", "name", "scopes", "key"}``; the secret is shown once."""
        minted: dict[str, Any] = self._run({"command": "mint-key", "tenant": tenant, "name": name, "scopes": scopes})
        return minted

    def dead_letters(self, queue: str | None = None, limit: int = 100) -> dict[str, Any]:
        """What the dead-letter queues hold (``queue``: one of them), left in place: ``{"messages": [...],
        "truncated": [the queues holding more than limit]}``. Each look counts as a receive of a message."""
        shown: dict[str, Any] = self._run({"command": "show-dead-letters", "queue": queue, "limit": limit})
        return shown

    def redrive(self, queue: str) -> int:
        """Move every message of ``queue``'s dead-letter queue back; how many moved."""
        moved = 0
        for _ in range(MAX_REDRIVE_CALLS):
            answer = self._run({"command": "redrive", "queue": queue})
            moved += int(answer["redriven"])
            if not answer["more"]:
                return moved
        raise AdminError("unexpected-answer", f"the {queue} dead-letter queue still had more after {moved} messages")

    def _run(self, command: dict[str, Any]) -> Any:
        _, botocore = _boto3()
        try:
            response = self._lambda.invoke(
                FunctionName=self.target.function_name, Payload=json.dumps(command).encode("utf-8")
            )
            answer = json.loads(response["Payload"].read() or b"null")
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise AdminError("aws-error", str(exc)) from exc  # access denied, no credentials, a timeout ...
        except ValueError as exc:
            raise AdminError("unexpected-answer", f"{self.target.function_name} answered no JSON: {exc}") from exc
        if response.get("FunctionError"):
            message = answer.get("errorMessage", "") if isinstance(answer, dict) else str(answer)
            raise AdminError("function-error", message or "the admin function failed")
        if not isinstance(answer, dict) or ("result" not in answer and "error" not in answer):
            raise AdminError("unexpected-answer", f"{self.target.function_name} answered {answer!r}")
        if "error" in answer:
            raise AdminCommandError(str(answer["error"].get("type")), str(answer["error"].get("detail")))
        return answer["result"]


def _boto3() -> tuple[Any, Any]:
    """boto3 and botocore (with its ``config`` and ``exceptions``), an optional extra."""
    try:
        import boto3
        import botocore.config
        import botocore.exceptions
    except ImportError:
        needed = "the admin commands need boto3: pip install 'infergate[admin]'"
        raise AdminTargetError("missing-dependency", needed) from None
    return boto3, botocore
