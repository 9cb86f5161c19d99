"""Tracing on, over the local stack: one trace from the API request to the webhook delivery, exported over
OTLP/HTTP to a collector on loopback, holding ids, names and statuses but never the input."""

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import LocalStack, running_stack
from tests.support.loopback import eventually
from tests.support.otlp_collector import Collector, ExportedSpan, collector
from tests.support.receiver import receiver

pytestmark = pytest.mark.e2e

SECRET_INPUT = "Great news! tracing-canary-7f3a91c2"  # must appear in no exported byte
CONSUMER, SERVER, CLIENT = 5, 2, 3  # OTLP's SpanKind numbers


@pytest.fixture(scope="module")
def traced_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalStack, Collector]]:
    with collector() as traces:
        settings = {"WEBHOOKS_ALLOW_INSECURE": "true", "TRACING": "On", "TRACING_ENDPOINT": traces.url}
        with running_stack(tmp_path_factory.mktemp("tracing"), settings) as stack:
            yield stack, traces


def _one(spans: list[ExportedSpan], name: str, **attributes: Any) -> ExportedSpan:
    found = [s for s in spans if s.name == name and all(s.attributes.get(k) == v for k, v in attributes.items())]
    assert len(found) == 1, (name, attributes, [(s.name, s.attributes) for s in spans])
    return found[0]


def test_one_trace_from_the_request_to_the_webhook(traced_stack: tuple[LocalStack, Collector]) -> None:
    stack, traces = traced_stack
    with receiver() as target, stack.client(stack.admin_key) as client:
        body = {"model": "sentiment", "input": {"text": SECRET_INPUT}, "webhook": target.url}
        response = client.post("/v1/predictions", json=body, headers={"traceparent": f"00-{'1' * 32}-{'2' * 16}-01"})
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "starting"
        assert eventually(lambda: target.requests), "the webhook never arrived"
        delivered = eventually(lambda: traces.named("webhook.deliver"))
        assert delivered, "no webhook delivery span was exported"

    trace_id = delivered[0].trace_id
    spans = traces.of_trace(trace_id)
    names = sorted(span.name for span in spans)
    by_id = {span.span_id: span for span in spans}

    # The API request: its span named by the route template, a new root (the caller's traceparent ignored)
    server = _one(spans, "POST /v1/predictions")
    assert trace_id != "1" * 32
    assert server.kind == SERVER
    assert server.parent_span_id == ""
    assert server.attributes["http.response.status_code"] == 201
    tenant = server.attributes["infergate.tenant"]
    assert (server.attributes["infergate.model"], server.attributes["infergate.model.version"]) == ("sentiment", 1)
    # ... its AWS calls, the SQS send among them
    send = [s for s in spans if s.name == "SQS.SendMessage" and s.parent_span_id == server.span_id]
    assert len(send) == 1
    assert send[0].kind == CLIENT
    assert any(s.name.startswith("DynamoDB.") and s.parent_span_id == server.span_id for s in spans)

    # The SQS message: the worker's span for it continues the request's span
    worker = next(s for s in spans if s.name.startswith("process ") and s.name.endswith("PredictionsQueue"))
    assert worker.kind == CONSUMER
    assert worker.parent_span_id == server.span_id

    # The model call, under the worker's span, annotated with model, version and tenant
    model = _one(spans, "model.predict")
    assert model.parent_span_id == worker.span_id
    assert (model.attributes["infergate.model"], model.attributes["infergate.model.version"]) == ("sentiment", 1)
    assert model.attributes["infergate.tenant"] == tenant
    assert any(by_id.get(s.parent_span_id) is worker and s.name.startswith("DynamoDB.") for s in spans)

    # The webhook: the delivery worker's span continues the worker's, the POST's span under it
    webhooks = next(s for s in spans if s.name.startswith("process ") and s.name.endswith("WebhooksQueue"))
    assert webhooks.kind == CONSUMER
    assert by_id[webhooks.parent_span_id] is worker
    [delivery] = delivered
    assert delivery.parent_span_id == webhooks.span_id
    assert delivery.kind == CLIENT
    assert delivery.attributes["http.response.status_code"] == 200
    assert delivery.attributes["infergate.tenant"] == tenant
    # ... and the receiver was handed the delivery's context
    [received] = target.requests
    assert received.headers["traceparent"].split("-")[1:3] == [trace_id, delivery.span_id], names

    # Nothing of the input, the webhook URL or the key in any exported byte
    exported = b"".join(traces.raw)
    for secret in (SECRET_INPUT, "tracing-canary", target.url, stack.admin_key):
        assert secret.encode() not in exported
    assert traces.refused == []
