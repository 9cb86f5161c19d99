"""Every AWS client of the service is made in one place, from its call policy, and keeps to it.

The policies and their reasons are ``shared/kernel/call_policies.py``; how long each may take against the
functions' timeouts is ``tests/contract/test_call_policies.py``.
"""

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ReadTimeoutError

from shared import wiring
from shared.adapters import clients
from shared.adapters.s3.objects import S3ObjectStore
from shared.adapters.secrets_manager import secret_bytes
from shared.kernel.call_policies import (
    AWS_POLICIES,
    DYNAMODB,
    INSPECTOR_INVOKE,
    S3,
    S3_DOWNLOAD_ATTEMPTS,
    SECRETS_MANAGER,
    SQS,
    AwsCallPolicy,
)
from shared.kernel.errors import TransientError
from tools.call_worst_case import worst_case_seconds
from tools.template import ROOT

ACCESSORS: dict[str, tuple[Callable[[], Any], AwsCallPolicy]] = {
    "dynamodb": (clients.dynamodb_client, DYNAMODB),
    "sqs": (clients.sqs_client, SQS),
    "s3": (clients.s3_client, S3),
    "secretsmanager": (clients.secretsmanager_client, SECRETS_MANAGER),
    "lambda": (clients.lambda_client, INSPECTOR_INVOKE),
}
# One cheap call per client: what it is does not matter, every send fails before leaving the process.
PROBES: dict[str, Callable[[Any], Any]] = {
    "dynamodb": lambda client: client.get_item(TableName="t", Key={"pk": {"S": "x"}}),
    "sqs": lambda client: client.send_message(QueueUrl="https://sqs.us-east-1.amazonaws.com/0/q", MessageBody="x"),
    "s3": lambda client: client.head_object(Bucket="b", Key="k"),
    "secretsmanager": lambda client: client.get_secret_value(SecretId="s"),
    "lambda": lambda client: client.invoke(FunctionName="inspector", InvocationType="RequestResponse"),
}


@pytest.fixture
def fake_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_MAX_ATTEMPTS": "9",  # the environment must not change a policy
        "AWS_RETRY_MODE": "legacy",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    wiring.reset()
    yield
    wiring.reset()


@pytest.fixture
def configs(monkeypatch: pytest.MonkeyPatch, fake_aws: None) -> dict[str, Config]:
    made: dict[str, Config] = {}
    real: Any = boto3.client

    def recording(service: str, *args: Any, config: Config, **kwargs: Any) -> Any:
        made[service] = config
        return real(service, *args, config=config, **kwargs)

    monkeypatch.setattr(boto3, "client", recording)
    return made


def test_every_policy_has_its_client_and_every_client_its_policy() -> None:
    assert {policy.service for policy in AWS_POLICIES} == set(ACCESSORS)
    assert all(ACCESSORS[policy.service][1] is policy for policy in AWS_POLICIES)


@pytest.mark.parametrize("service", ACCESSORS)
def test_a_client_is_made_with_every_setting_of_its_policy(service: str, configs: dict[str, Config]) -> None:
    # Given the policy of the service
    accessor, policy = ACCESSORS[service]

    # When its client is made
    client = accessor()

    # Then its configuration is the policy's, explicitly
    config: Any = configs[service]  # botocore sets a Config's attributes from its arguments
    assert (config.connect_timeout, config.read_timeout) == (policy.connect_seconds, policy.read_seconds)
    assert config.retries == {"mode": policy.retry_mode, "total_max_attempts": policy.attempts}
    assert client.meta.config.retries == {"mode": policy.retry_mode, "total_max_attempts": policy.attempts}


@pytest.mark.parametrize("service", ACCESSORS)
def test_a_call_is_attempted_as_often_as_its_policy_says(service: str, fake_aws: None) -> None:
    # Given a client whose every send times out (before any byte leaves the process)
    accessor, policy = ACCESSORS[service]
    client = accessor()
    sends: list[str] = []

    def time_out(request: Any, **kwargs: Any) -> None:
        sends.append(request.url)
        raise ReadTimeoutError(endpoint_url=request.url)

    client.meta.events.register("before-send", time_out)

    # When one call is made
    with pytest.raises(ReadTimeoutError):
        PROBES[service](client)

    # Then it was sent exactly `attempts` times, whatever AWS_MAX_ATTEMPTS and AWS_RETRY_MODE say
    assert len(sends) == policy.attempts


def test_one_attempt_takes_at_most_its_connect_and_read_timeouts() -> None:
    policy = AwsCallPolicy("lambda", "Lambda", connect_seconds=1, read_seconds=26, attempts=1, why="")

    assert worst_case_seconds(policy) == 27


def test_a_retry_adds_botocore_s_longest_backoff() -> None:
    # Given a policy of two attempts
    policy = AwsCallPolicy("dynamodb", "DynamoDB", connect_seconds=1, read_seconds=3, attempts=2, why="")

    # When its worst case is computed
    worst = worst_case_seconds(policy)

    # Then it is both attempts, plus a throttle's first backoff (1 s) and the x-amz-retry-after allowance (5 s)
    assert worst == 2 * (1 + 3) + 1 + 5


# ---------------------------------------------------------------------------------------------
# s3transfer


@dataclass
class RecordingS3:
    calls: list[dict[str, Any]]

    def download_file(self, bucket: str, key: str, filename: str, **kwargs: Any) -> None:
        self.calls.append({"bucket": bucket, "key": key, "filename": filename, **kwargs})


def test_downloads_go_through_s3transfer_with_the_policy_s_attempts(tmp_path: Path) -> None:
    # Given the object store on a client that records its downloads
    client = RecordingS3([])
    store = S3ObjectStore("bucket", client)  # type: ignore[arg-type]

    # When an artifact is downloaded
    store.download("artifacts/m/1/model.onnx", tmp_path / "model.onnx")

    # Then s3transfer is told how often to try a part (not its default of 5)
    assert client.calls[0]["Config"].num_download_attempts == S3_DOWNLOAD_ATTEMPTS


# ---------------------------------------------------------------------------------------------
# No client anywhere else: the deployed code, parsed

POLICY_MODULE = Path("shared/adapters/clients.py")
WEBHOOK_MODULE = Path("shared/webhooks/http.py")
TRACING_MODULE = Path("shared/adapters/tracing.py")
# Calls that open a connection or make a client of their own: allowed only in the module named.
NETWORK_CALLS: dict[str, Path | None] = {
    "client": POLICY_MODULE,  # boto3.client, Session.client
    "resource": None,  # boto3.resource: its clients bypass the policies
    "Session": None,  # boto3.Session / botocore sessions: a client factory beside the policies
    "get_session": None,
    "create_client": None,
    "PoolManager": None,
    "HTTPConnectionPool": WEBHOOK_MODULE,
    "HTTPSConnectionPool": WEBHOOK_MODULE,
    "HTTPConnection": None,
    "HTTPSConnection": None,
    "urlopen": WEBHOOK_MODULE,  # urllib.request.urlopen nowhere; the webhook pool's urlopen there
    "create_connection": None,
    "OTLPSpanExporter": TRACING_MODULE,  # the trace export (tracing on), with TRACE_EXPORT's deadline
}
# Libraries that would make their own clients or connections: never imported by the deployed code.
FORBIDDEN_IMPORTS = ("requests", "httpx", "aiohttp", "urllib.request", "aws_lambda_powertools.utilities.idempotency")
# Powertools' parameter helpers make a default client unless given one.
POWERTOOLS_PROVIDERS = ("SecretsProvider", "SSMProvider", "AppConfigProvider", "DynamoDBProvider")
POWERTOOLS_DEFAULT_CLIENT_HELPERS = ("get_secret", "get_secrets_by_name", "get_parameter", "get_parameters")
S3TRANSFER_CALLS = ("download_file", "download_fileobj", "upload_file", "upload_fileobj")


def problems_in(path: Path, source: str) -> list[str]:
    """Where ``source`` (the file at ``path``, relative to the repository) makes a network client of its own."""
    found = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            imported = [alias.name for alias in node.names] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                if any(name == lib or name.startswith(lib + ".") for lib in FORBIDDEN_IMPORTS):
                    found.append(f"{path}:{node.lineno} imports {name}")
            if any(name in POWERTOOLS_DEFAULT_CLIENT_HELPERS for name in imported):
                found.append(f"{path}:{node.lineno} imports a Powertools helper that makes its own client")
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        keywords = {keyword.arg for keyword in node.keywords}
        if name in NETWORK_CALLS and NETWORK_CALLS[name] != path:
            found.append(f"{path}:{node.lineno} calls {name}()")
        if name == "client" and path == POLICY_MODULE and "config" not in keywords:
            found.append(f"{path}:{node.lineno} makes a client without its policy's config")
        if name == "OTLPSpanExporter" and "timeout" not in keywords:
            found.append(f"{path}:{node.lineno} makes a trace exporter without the policy's deadline")
        if name in POWERTOOLS_PROVIDERS and "boto3_client" not in keywords:
            found.append(f"{path}:{node.lineno} lets {name} make its own client")
        if name in S3TRANSFER_CALLS and "Config" not in keywords:
            found.append(f"{path}:{node.lineno} calls {name}() without the policy's TransferConfig")
    return found


def deployed_sources() -> Iterator[tuple[Path, str]]:
    for folder in ("shared", "functions"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield path.relative_to(ROOT), path.read_text(encoding="utf-8")


def test_no_deployed_code_makes_a_client_or_connection_outside_its_one_place() -> None:
    found = [problem for path, source in deployed_sources() for problem in problems_in(path, source)]

    assert found == []


@pytest.mark.parametrize(
    ("path", "source", "problem"),
    [
        ("shared/adapters/sqs.py", "import boto3\nboto3.client('sqs')\n", "calls client()"),
        ("shared/adapters/sqs.py", "import boto3\nboto3.Session().client('sqs')\n", "calls Session()"),
        ("shared/adapters/clients.py", "import boto3\nboto3.client('sqs')\n", "without its policy's config"),
        ("shared/adapters/x.py", "import boto3\nboto3.resource('s3')\n", "calls resource()"),
        ("shared/adapters/x.py", "from x import SecretsProvider\nSecretsProvider()\n", "its own client"),
        ("shared/adapters/x.py", "from aws_lambda_powertools.utilities.parameters import get_secret\n", "helper"),
        ("shared/webhooks/x.py", "import urllib3\nurllib3.PoolManager()\n", "calls PoolManager()"),
        ("shared/wiring.py", "OTLPSpanExporter(endpoint=url, timeout=1)\n", "calls OTLPSpanExporter()"),
        ("shared/adapters/tracing.py", "OTLPSpanExporter(endpoint=url)\n", "without the policy's deadline"),
        ("shared/webhooks/x.py", "import httpx\n", "imports httpx"),
        ("shared/adapters/x.py", "c.download_file('b', 'k', 'f')\n", "without the policy's TransferConfig"),
    ],
)
def test_the_check_finds_each_way_around_the_policies(path: str, source: str, problem: str) -> None:
    found = problems_in(Path(path), source)

    assert any(problem in line for line in found), found


def test_a_secret_read_that_times_out_is_transient(fake_aws: None) -> None:
    # Given Secrets Manager that never answers in time
    def time_out(request: Any, **kwargs: Any) -> None:
        raise ReadTimeoutError(endpoint_url=request.url)

    clients.secretsmanager_client().meta.events.register("before-send", time_out)

    # When a secret is read through Powertools, Then it is a TransientError (503 with Retry-After), not a 500
    with pytest.raises(TransientError, match="Secrets Manager could not be reached"):
        secret_bytes("arn:aws:secretsmanager:us-east-1:000000000000:secret:c", 0)
