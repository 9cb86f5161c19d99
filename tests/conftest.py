"""Fixtures shared by every test layer."""

import io
import json
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import pytest
from moto import mock_aws

from shared.kernel.observability import logger
from shared.keys.models import Scope
from shared.wiring import key_service, reset
from tests.support.builtin_model import built_models_dir
from tools import moto_iam
from tools.enforcement import enforcing_in_process
from tools.iam_audit import refusal_report, take_refusals
from tools.local_lambda import LocalLambda
from tools.provision import Stack, function_environment, provision
from tools.template import load_template

moto_iam.install()

# tokenizers runs a batch on every core (rayon): a test that tokenises hostile texts would then starve the
# real-time tests running beside it on the other pytest worker (the rate-limit contention test's sixteen
# threads judge by the wall clock). One thread in tests; the service keeps the library's default.
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_METRICS_DISABLED": "true",
}


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fake credentials; never a real endpoint or profile."""
    for name, value in FAKE_AWS.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    reset()
    yield
    reset()


@cache
def _provisioning_clients() -> dict[str, Any]:
    """Created once: a boto3 client costs ~60 ms to build, and moto answers any client while mocking."""
    import boto3

    return {name: boto3.client(name, region_name="us-east-1") for name in ("dynamodb", "s3", "sqs", "secretsmanager")}


@pytest.fixture
def stack(aws_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Stack]:
    """moto with the tables, queues and secrets of template.yaml, and the functions' environment.

    Each function runs as its own role, enforced: a call its role does not allow fails the test, naming
    the function, the action and the resource. The test itself acts as the operator.
    """
    take_refusals()
    with mock_aws():
        template = load_template()
        created = provision(template, prefix="test", **_provisioning_clients())
        for name, value in function_environment(template, created).items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("MODEL_DIR", str(tmp_path / "models"))
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            monkeypatch.setenv(name, os.environ[name])  # restored after the operator's replace them
        with enforcing_in_process(template, created) as roles:
            functions = LocalLambda(template, created, roles).start()  # the Lambda Invoke API, in this process
            monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", functions.endpoint)
            reset()
            try:
                yield created
            finally:
                functions.stop()
    reset()
    refusals = take_refusals()
    if refusals:
        pytest.fail(refusal_report(refusals), pytrace=False)


@pytest.fixture(scope="session")
def builtin_models_dir() -> Path:
    """The built-in embedding model, built once per pin (``tests.support.builtin_model``); never skipped."""
    return built_models_dir()


@pytest.fixture
def builtin_models(stack: Stack, monkeypatch: pytest.MonkeyPatch, builtin_models_dir: Path) -> Path:
    """The functions read the built-in text models from the tests' build (``/opt/models`` in Lambda)."""
    monkeypatch.setenv("BUILTIN_MODELS_DIR", str(builtin_models_dir))
    reset()
    return builtin_models_dir


@dataclass(frozen=True)
class Credential:
    tenant: str
    secret: str
    key_id: str


class MintKey(Protocol):
    def __call__(self, tenant: str = ..., scopes: tuple[Scope, ...] = ...) -> Credential: ...


@pytest.fixture
def mint(stack: Stack) -> MintKey:
    def make(tenant: str = "acme", scopes: tuple[Scope, ...] = (Scope.ADMIN,)) -> Credential:
        key, secret = key_service().create(tenant, f"{tenant} test key", scopes)
        return Credential(tenant, secret, key.id)

    return make


@pytest.fixture
def admin(mint: MintKey) -> Credential:
    return mint("acme", (Scope.ADMIN,))


class CapturedLogs:
    """Every line the service logger wrote during a test, formatted exactly as in Lambda."""

    def __init__(self, stream: io.StringIO) -> None:
        self._stream = stream

    @property
    def text(self) -> str:
        return self._stream.getvalue()

    @property
    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]


@pytest.fixture
def captured_logs() -> Iterator[CapturedLogs]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    service_logger = logging.getLogger(logger.service)  # the stdlib logger Powertools writes through
    service_logger.addHandler(handler)
    try:
        yield CapturedLogs(stream)
    finally:
        service_logger.removeHandler(handler)


# Reports a test wants shown after the run (load-test figures, built sizes). They travel in the test's
# ``user_properties``, so they reach the terminal also when the test ran in a pytest-xdist worker.
REPORT_PROPERTY = "infergate_report"
_pending_reports: list[str] = []  # filled in the controlling process, printed at the end


@pytest.fixture
def report(record_property: Callable[[str, object], None]) -> Callable[[str], None]:
    """``report(text)``: print ``text`` in the summary at the end of the run."""
    return lambda text: record_property(REPORT_PROPERTY, text)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    texts = [str(value) for name, value in report.user_properties if name == REPORT_PROPERTY]
    if texts and report.when == "call":
        _pending_reports.extend(texts)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _pending_reports:
        return
    terminalreporter.section("reports")
    for text in _pending_reports:
        terminalreporter.write_line(text)
