"""The wiring creates no AWS client: a service's client is made by its first call (docs/performance.md, section 1)."""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from shared import wiring
from shared.adapters.clients import lazily, sqs_client


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    services: list[str] = []
    real: Any = boto3.client

    def counting(service: str, *args: Any, **kwargs: Any) -> Any:
        services.append(service)
        return real(service, *args, **kwargs)

    monkeypatch.setattr(boto3, "client", counting)
    monkeypatch.setenv("TABLE_NAME", "t")
    monkeypatch.setenv("PREDICTIONS_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/000000000000/p")
    monkeypatch.setenv("WEBHOOKS_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/000000000000/w")
    monkeypatch.setenv("CURSOR_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:000000000000:secret:c")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    wiring.reset()
    yield services
    wiring.reset()


def test_building_a_service_creates_no_client(made: list[str]) -> None:
    wiring.prediction_service()  # a store, a queue, a registry: three clients' worth of adapters
    assert made == []


def test_the_first_call_creates_the_client_once_and_later_calls_reuse_it(made: list[str]) -> None:
    queue = lazily(sqs_client)
    assert made == []

    assert queue.meta.service_model.service_name == "sqs"
    assert queue.meta is sqs_client().meta
    assert made == ["sqs"]


def test_a_reset_is_seen_by_stand_ins_made_before_it(made: list[str]) -> None:
    """Tests (and SnapStart's restore) reset the container: an old stand-in reaches the new client."""
    queue = lazily(sqs_client)
    before = queue.meta
    wiring.reset()
    assert queue.meta is not before
    assert queue.meta is sqs_client().meta
