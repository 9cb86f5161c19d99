"""Cold-start hygiene: importing a function's module loads no model runtime, no JSON Schema validator and
no RE2 (each loads when a request needs it), none of the modules that only make the OpenAPI document, and,
with tracing off (the template's default), no tracing library: no OpenTelemetry SDK, exporter,
instrumentation or protobuf, no X-Ray SDK. The API functions do load the OpenTelemetry *API*, a FastAPI
dependency whose calls do nothing without a provider (FastAPI's telemetry is off in ``create_app``); the
queue functions load nothing of OpenTelemetry at all. With ``TRACING=On`` the SDK and its exporter are
loaded at import (the positive control), before any client is made.

Every import runs in a fresh interpreter, so nothing another test imported can hide or fake a result;
the interpreters of the module run side by side (one per core) and each test waits for its own.
"""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from tools.template import ROOT, FunctionSpec, load_template

HEAVY_MODULES = ("numpy", "onnxruntime", "vaderSentiment", "jsonschema", "referencing", "re2")
# Tracing libraries (modules and packages, by dotted prefix): loaded only with TRACING=On.
TRACING_MODULES = (
    "aws_xray_sdk",
    "opentelemetry.sdk",
    "opentelemetry.exporter",
    "opentelemetry.instrumentation",
    "opentelemetry.propagators.aws",
    "opentelemetry.proto",
    "opentelemetry.semconv",
    "google.protobuf",
    "requests",
    "shared.adapters.tracing",
)
TRACING_ON = {"TRACING": "On", "TRACING_ENDPOINT": "http://127.0.0.1:9/v1/traces"}
DOCUMENT_ONLY = ("shared.api.webhook_events",)  # the webhook events' routes: added when a document is made
DUMMY_ENVIRONMENT = {
    "TABLE_NAME": "dummy-table",
    "PREDICTIONS_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/dummy-queue",
    "CURSOR_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:dummy",
    "RETENTION_DAYS": "7",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "POWERTOOLS_METRICS_DISABLED": "true",
}

FUNCTIONS = load_template().functions
API_FUNCTIONS = [spec for spec in FUNCTIONS if spec.routes or spec.default_route]
QUEUE_FUNCTIONS = [spec for spec in FUNCTIONS if spec.queue_triggers]


def _model_run(name: str, payload: str, expected: str) -> str:
    return (
        "from pathlib import Path\n"
        "from shared.registry.builtins import BUILTIN_MODELS\n"
        "from shared.runtimes.artifacts import ArtifactFiles\n"
        "from shared.runtimes.loader import RuntimeLoader\n"
        f"[version] = next(model for model in BUILTIN_MODELS if model.name == {name!r}).versions\n"
        "load = RuntimeLoader(ArtifactFiles(None, Path('/nonexistent')))\n"
        f"assert load(version).predict([{payload}])[0]['label'] == {expected!r}\n"
    )


PROBES: dict[str, tuple[str, dict[str, str]]] = {
    spec.logical_id: (f"import {spec.module}", {}) for spec in FUNCTIONS
} | {
    "sentiment run": (_model_run("sentiment", "{'text': 'great'}", "positive"), {}),
    "iris run": (_model_run("iris", "{'features': [5.1, 3.5, 1.4, 0.2]}", "setosa"), {}),
    "traced API function": ("import functions.create_prediction.app", TRACING_ON),
    "traced queue function": ("import functions.run_predictions.app", TRACING_ON),
}


# Records every name the import system is asked for, found or not: a module that is not installed here
# (numpy, onnxruntime) still shows up when something tries to import it.
RECORD = """
import sys
_asked = set()
class _Recorder:
    @staticmethod
    def find_spec(name, path=None, target=None):
        _asked.add(name)
sys.meta_path.insert(0, _Recorder)
"""
REPORT = """
import json
print(json.dumps(sorted(_asked | set(sys.modules))))
"""


def loaded_modules(code: str, environment: dict[str, str] | None = None) -> set[str]:
    """Run ``code`` in a fresh interpreter (repository root on sys.path): every module it loaded or tried to
    load, with each top-level name among them (``numpy`` for ``numpy.linalg``)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "POWERTOOLS_", "TRACING"))}
    env.update(DUMMY_ENVIRONMENT | (environment or {}))
    completed = subprocess.run(
        [sys.executable, "-c", RECORD + code + REPORT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    modules: list[str] = json.loads(completed.stdout.strip().splitlines()[-1])
    return set(modules) | {name.partition(".")[0] for name in modules}


def within(modules: set[str], prefixes: tuple[str, ...]) -> list[str]:
    """The modules of ``modules`` that are, or are inside, one of ``prefixes``."""
    return sorted(name for name in modules if any(name == p or name.startswith(p + ".") for p in prefixes))


@pytest.fixture(scope="module")
def probes() -> Iterator[dict[str, "Future[set[str]]"]]:
    """Every probe of this module, started at once in fresh interpreters."""
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        futures = {name: pool.submit(loaded_modules, code, env) for name, (code, env) in PROBES.items()}
        yield futures
        for future in futures.values():
            future.cancel()


@pytest.mark.parametrize("spec", API_FUNCTIONS, ids=[spec.logical_id for spec in API_FUNCTIONS])
def test_api_function_import_is_light(spec: FunctionSpec, probes: dict[str, "Future[set[str]]"]) -> None:
    modules = probes[spec.logical_id].result()
    assert spec.module.partition(".")[0] in modules
    assert modules.isdisjoint(HEAVY_MODULES), sorted(modules.intersection(HEAVY_MODULES))
    assert modules.isdisjoint(DOCUMENT_ONLY), sorted(modules.intersection(DOCUMENT_ONLY))
    assert within(modules, TRACING_MODULES) == []


@pytest.mark.parametrize("spec", QUEUE_FUNCTIONS, ids=[spec.logical_id for spec in QUEUE_FUNCTIONS])
def test_queue_function_import_loads_no_model_runtime(
    spec: FunctionSpec, probes: dict[str, "Future[set[str]]"]
) -> None:
    """The inference worker imports vaderSentiment only when a sentiment prediction runs."""
    modules = probes[spec.logical_id].result()
    assert spec.module.partition(".")[0] in modules
    assert "vaderSentiment" not in modules
    assert modules.isdisjoint(HEAVY_MODULES), sorted(modules.intersection(HEAVY_MODULES))
    assert within(modules, ("opentelemetry", *TRACING_MODULES)) == []


def test_making_the_document_loads_the_webhook_events() -> None:
    """The positive control of ``DOCUMENT_ONLY``: the document (``python -m tools.openapi``) does load them."""
    assert set(DOCUMENT_ONLY) <= loaded_modules("from tools.openapi import render\nrender()\n")


def test_sentiment_runtime_loads_vader_when_it_runs(probes: dict[str, "Future[set[str]]"]) -> None:
    """The positive control of the checks above: running the sentiment model does import vaderSentiment."""
    assert "vaderSentiment" in probes["sentiment run"].result()


def test_iris_loads_onnxruntime_when_it_runs(probes: dict[str, "Future[set[str]]"]) -> None:
    """The positive control for onnxruntime and numpy: running the bundled iris model imports them."""
    assert {"onnxruntime", "numpy"} <= probes["iris run"].result()


@pytest.mark.parametrize("probe", ["traced API function", "traced queue function"])
def test_tracing_on_loads_the_sdk_and_its_exporter_at_import(probe: str, probes: dict[str, "Future[set[str]]"]) -> None:
    """The positive control of the tracing checks above: the same imports with ``TRACING=On`` do load them."""
    modules = probes[probe].result()
    for package in ("opentelemetry.sdk.trace", "opentelemetry.exporter.otlp.proto.http", "shared.adapters.tracing"):
        assert package in modules
    assert within(modules, ("aws_xray_sdk", "opentelemetry.instrumentation")) == []  # neither is used at all
