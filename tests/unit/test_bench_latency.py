"""The benchmarks' latency model (bench.latency) and the fake AWS that applies it (bench.fake_aws)."""

import ast
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore import xform_name

from bench.fake_aws import RecordedCall, Replay, slowed
from bench.latency import (
    DEFAULT_DELAYS,
    OUR_ASSUMPTION,
    Delay,
    LatencyModel,
    UnmodelledOperationError,
    billed_gb_seconds,
    configured,
    percentile,
)
from tools.template import ROOT

SERVICES = ("dynamodb", "sqs", "s3", "secretsmanager", "lambda")  # the clients shared/adapters/clients.py makes
# Calls that reach botocore's operations other than as a client method of the operation's own name.
INDIRECT = {
    "download_file": {("s3", "HeadObject"), ("s3", "GetObject")},  # s3transfer: a HEAD, then ranged GETs
    "SecretsProvider": {("secretsmanager", "GetSecretValue")},  # Powertools Parameters
}


def operations_called_by_the_service() -> set[tuple[str, str]]:
    """Every AWS operation the deployed code can call: a client method named after an operation (or one of
    the indirect ways above) anywhere under ``shared/``."""
    session = botocore.session.get_session()
    by_method: dict[str, set[tuple[str, str]]] = {}
    for service in SERVICES:
        for operation in session.get_service_model(service).operation_names:
            by_method.setdefault(xform_name(operation), set()).add((service, operation))
    found: set[tuple[str, str]] = set()
    for path in (ROOT / "shared").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                found |= INDIRECT.get(name, set())
                candidates = by_method.get(name, set())
                modelled = candidates & set(DEFAULT_DELAYS)
                found |= modelled or candidates  # an unmodelled candidate fails the test below
    return found


def test_every_operation_the_service_calls_has_a_default_delay_with_its_source() -> None:
    called = operations_called_by_the_service()

    assert {("dynamodb", "GetItem"), ("dynamodb", "TransactWriteItems"), ("sqs", "SendMessage")} <= called
    assert {("s3", "GetObject"), ("lambda", "Invoke"), ("secretsmanager", "GetSecretValue")} <= called
    assert sorted(called - set(DEFAULT_DELAYS)) == []
    assert all(delay.source for delay in DEFAULT_DELAYS.values())


def test_a_transaction_takes_twice_a_single_write() -> None:
    write, transaction = DEFAULT_DELAYS[("dynamodb", "PutItem")], DEFAULT_DELAYS[("dynamodb", "TransactWriteItems")]

    assert (transaction.median_ms, transaction.p99_ms) == (2 * write.median_ms, 2 * write.p99_ms)


def test_the_same_seed_draws_the_same_delays_and_another_seed_others() -> None:
    def draws(seed: int) -> list[float]:
        model = LatencyModel(seed=seed)
        return [model.draw("dynamodb", "GetItem") for _ in range(5)] + [model.draw("s3", "GetObject")]

    assert draws(7) == draws(7)
    assert draws(7) != draws(8)


def test_the_draws_follow_the_median_and_the_p99() -> None:
    model = LatencyModel({("dynamodb", "GetItem"): Delay(4, 12, OUR_ASSUMPTION)}, seed=1)

    drawn = [model.draw("dynamodb", "GetItem") * 1000 for _ in range(20_000)]

    assert percentile(drawn, 0.5) == pytest.approx(4, rel=0.05)
    assert percentile(drawn, 0.99) == pytest.approx(12, rel=0.1)
    assert min(drawn) > 0


def test_a_replayed_call_is_answered_after_sleeping_the_drawn_delay() -> None:
    slept: list[float] = []
    model = LatencyModel(seed=3, sleep=slept.append)
    expected = LatencyModel(seed=3).draw("dynamodb", "GetItem")
    client = boto3.client(
        "dynamodb", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    answer: dict[str, Any] = {"Item": {"PK": {"S": "k"}}}
    replay = Replay([RecordedCall("dynamodb", "GetItem", {}, answer, None)], model)

    with replay.installed():
        got = client.get_item(TableName="t", Key={"PK": {"S": "k"}})

    assert dict(got) == answer
    assert slept == [expected]


def test_a_call_answered_by_what_is_installed_is_then_held_back_by_the_drawn_delay() -> None:
    slept: list[float] = []
    expected = LatencyModel(seed=4).draw("sqs", "SendMessage")
    client = boto3.client("sqs", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    replay = Replay([RecordedCall("sqs", "SendMessage", {}, {"MessageId": "m"}, None)])

    with replay.installed(), slowed(LatencyModel(seed=4, sleep=slept.append)) as spent:
        got = client.send_message(QueueUrl="https://sqs.us-east-1.amazonaws.com/1/q", MessageBody="b")

    assert got["MessageId"] == "m"
    assert slept == [expected]
    assert spent.drawn == expected
    assert spent.answering > 0  # the replay's own time, kept apart from the delay
    assert spent.with_model(1.0) == pytest.approx(1.0 - spent.answering - spent.slept + expected)


def test_an_operation_without_a_delay_is_refused_not_answered_at_once() -> None:
    model = LatencyModel({}, sleep=lambda seconds: None)

    with pytest.raises(UnmodelledOperationError, match="dynamodb Scan"):
        model.wait("dynamodb", "Scan")


def test_the_setting_turns_the_model_off_or_reads_a_file_over_the_defaults(tmp_path: Path) -> None:
    settings = tmp_path / "latency.json"
    settings.write_text(
        json.dumps({"seed": 5, "operations": {"dynamodb GetItem": {"median_ms": 0, "p99_ms": 0}}}), encoding="utf-8"
    )

    assert configured({"INFERGATE_BENCH_LATENCY": "off"}) is None
    assert configured({}) is not None
    model = configured({"INFERGATE_BENCH_LATENCY": str(settings)})
    assert model is not None
    assert model.seed == 5
    assert model.draw("dynamodb", "GetItem") == 0.0
    assert model.delays[("sqs", "SendMessage")] == DEFAULT_DELAYS[("sqs", "SendMessage")]


def test_lambda_bills_each_started_millisecond_at_the_memory_size() -> None:
    assert billed_gb_seconds(0.0102, 512) == pytest.approx(0.5 * 0.011)
    assert billed_gb_seconds(0.0004, 2048) == pytest.approx(2 * 0.001)


def test_calls_made_at_once_from_threads_are_taken_out_once_not_once_each() -> None:
    """The worker's calls overlap: taking each one's time out of the wall would bill less than nothing."""
    client = boto3.client("sqs", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    replay = Replay([RecordedCall("sqs", "SendMessage", {}, {"MessageId": "m"}, None)] * 4)
    model = LatencyModel({("sqs", "SendMessage"): Delay(50, 50.01, "a test's")})
    url = "https://sqs.us-east-1.amazonaws.com/1/q"

    with replay.installed(), slowed(model) as spent:
        began = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda _: client.send_message(QueueUrl=url, MessageBody="b"), range(4)))
        wall = time.perf_counter() - began

    assert spent.slept > wall  # four sleeps of 50 ms side by side
    assert 0 < spent.without_delays(wall) < wall
    assert 0 < spent.with_model(wall) <= wall + 1e-9
