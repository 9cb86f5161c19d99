"""Tracing (opt-in): the W3C context across the SQS hop, what a span may hold, and the per-invocation export.

The SDK's in-memory exporter stands in for the OTLP endpoint; the end-to-end test
(``tests/e2e/test_tracing.py``) exports over OTLP/HTTP to a collector on loopback.
"""

import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from botocore.stub import Stubber
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from pydantic import ValidationError

from shared.adapters import tracing as sdk
from shared.adapters.clients import traced
from shared.adapters.sqs import SqsDeliveryQueue
from shared.kernel import tracing
from shared.kernel.messages import DeliverWebhook
from shared.kernel.observability import logger
from shared.kernel.tasks import TaskPool
from shared.queue.consumer import trace_carrier
from shared.settings import TracingSettings
from tests.support.spans import recorded_spans

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


@pytest.fixture
def exported() -> Iterator[InMemorySpanExporter]:
    with recorded_spans() as exporter:
        yield exporter


def _spans(exporter: InMemorySpanExporter) -> dict[str, ReadableSpan]:
    tracing.flush()
    return {span.name: span for span in exporter.get_finished_spans()}


def _record(attributes: dict[str, str]) -> SQSRecord:
    return SQSRecord(
        {
            "messageId": "m-1",
            "receiptHandle": "r-1",
            "body": "{}",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:stack-PredictionsQueue-x",
            "messageAttributes": {
                name: {"stringValue": value, "dataType": "String"} for name, value in attributes.items()
            },
        }
    )


def test_the_context_sent_with_a_message_is_continued_by_its_consumer(exported: InMemorySpanExporter) -> None:
    with tracing.server_span("POST /v1/predictions") as status:
        sent = tracing.carrier()
        status(201)
    with (
        tracing.opened("process PredictionsQueue", [("req-1", trace_carrier(_record(sent)))]),
        tracing.resumed("req-1"),
        tracing.span("model.predict", {tracing.MODEL: "sentiment"}),
    ):
        pass

    spans = _spans(exported)
    server, consumer, model = spans["POST /v1/predictions"], spans["process PredictionsQueue"], spans["model.predict"]
    assert list(sent) == ["traceparent"]
    version, trace_id, span_id, flags = sent["traceparent"].split("-")
    assert (version, trace_id, span_id) == ("00", f"{server.context.trace_id:032x}", f"{server.context.span_id:016x}")
    assert int(flags, 16) & 1  # sampled
    assert server.context.trace_id == consumer.context.trace_id == model.context.trace_id
    assert consumer.parent is not None
    assert consumer.parent.span_id == server.context.span_id
    assert model.parent is not None
    assert model.parent.span_id == consumer.context.span_id
    assert (server.kind, consumer.kind) == (SpanKind.SERVER, SpanKind.CONSUMER)
    assert server.attributes == {
        "http.route": "/v1/predictions",
        "http.request.method": "POST",
        "http.response.status_code": 201,
    }


def test_a_message_without_a_traceparent_starts_a_new_trace(exported: InMemorySpanExporter) -> None:
    with tracing.server_span("GET /v1/health"):
        pass
    with tracing.opened("process Q", [("req-2", trace_carrier(_record({"correlation_id": "req-2"})))]):
        pass

    spans = _spans(exported)
    assert spans["process Q"].parent is None
    assert spans["process Q"].context.trace_id != spans["GET /v1/health"].context.trace_id


@pytest.mark.parametrize(
    "value",
    [
        "garbage",
        f"00-{TRACE_ID}-00f067aa0ba902b7",  # no flags
        f"00-{'0' * 32}-00f067aa0ba902b7-01",  # the invalid all-zero trace id
        f"00-{TRACE_ID.upper()}-00f067aa0ba902b7-01",  # hex is lower case
        f"00-{TRACE_ID}-00f067aa0ba902b7-01<script>",
    ],
)
def test_a_malformed_traceparent_is_ignored(exported: InMemorySpanExporter, value: str) -> None:
    with tracing.opened("process Q", [("req-3", {"traceparent": value})]):
        pass

    [span] = _spans(exported).values()
    assert span.parent is None
    assert format(span.context.trace_id, "032x") != TRACE_ID


def test_only_the_traceparent_is_read_from_a_carrier(exported: InMemorySpanExporter) -> None:
    carrier = {"traceparent": PARENT, "tracestate": "vendor=hostile text", "baggage": "tenant=other"}
    with tracing.opened("process Q", [("req-4", carrier)]), tracing.resumed("req-4"):
        assert tracing.carrier() == {"traceparent": tracing.carrier()["traceparent"]}
        assert tracing.current_trace_id() == TRACE_ID

    [span] = _spans(exported).values()
    assert span.parent is not None
    assert span.parent.is_remote
    assert format(span.context.trace_id, "032x") == TRACE_ID
    assert span.context.trace_state.to_header() == ""


def test_messages_of_one_delivery_keep_their_own_traces(exported: InMemorySpanExporter) -> None:
    other = f"00-{'a' * 32}-{'b' * 16}-01"
    with (
        tracing.opened("process Q", [("one", {"traceparent": PARENT}), ("two", {"traceparent": other})]),
        tracing.resumed("one"),
        tracing.span("model.predict", links=["two"]),
    ):
        pass

    model = _spans(exported)["model.predict"]
    assert format(model.context.trace_id, "032x") == TRACE_ID
    assert [format(link.context.trace_id, "032x") for link in model.links] == ["a" * 32]


def test_a_span_records_the_error_type_never_its_message(exported: InMemorySpanExporter) -> None:
    with pytest.raises(ValueError, match="secret input"), tracing.span("model.predict"):
        raise ValueError("secret input")

    [span] = _spans(exported).values()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes == {"error.type": "ValueError"}
    assert span.events == ()  # no exception event: its message and stack would be exported


def test_the_sqs_adapter_sends_the_current_context_as_a_message_attribute(exported: InMemorySpanExporter) -> None:
    sent: list[dict[str, Any]] = []

    class Client:
        def send_message(self, **request: Any) -> None:
            sent.append(request)

    queue = SqsDeliveryQueue("https://queue", Client())  # type: ignore[arg-type]
    with tracing.server_span("POST /v1/predictions"):
        queue.send(DeliverWebhook(tenant="t", prediction_id="p", delivery_id="d"))
        expected = tracing.carrier()["traceparent"]
    tracing.disable()
    queue.send(DeliverWebhook(tenant="t", prediction_id="p", delivery_id="d"))

    assert sent[0]["MessageAttributes"]["traceparent"] == {"DataType": "String", "StringValue": expected}
    assert "traceparent" not in sent[1]["MessageAttributes"]


def test_each_aws_call_of_a_traced_client_is_a_child_span(exported: InMemorySpanExporter) -> None:
    client = traced(boto3.client("sqs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"))
    with Stubber(client) as stub:
        stub.add_response("send_message", {"MessageId": "m"}, {"QueueUrl": "https://q", "MessageBody": "secret body"})
        stub.add_client_error("send_message", "AWS.SimpleQueueService.NonExistentQueue", http_status_code=400)
        with tracing.server_span("POST /v1/predictions"):
            client.send_message(QueueUrl="https://q", MessageBody="secret body")
            with pytest.raises(client.exceptions.ClientError):
                client.send_message(QueueUrl="https://q", MessageBody="secret body")

    tracing.flush()
    spans = [span for span in exported.get_finished_spans() if span.name == "SQS.SendMessage"]
    assert len(spans) == 2
    server = _spans(exported)["POST /v1/predictions"]
    assert all(span.parent is not None and span.parent.span_id == server.context.span_id for span in spans)
    assert spans[0].kind is SpanKind.CLIENT
    assert spans[0].attributes is not None
    assert spans[0].attributes["rpc.method"] == "SendMessage"
    assert spans[1].attributes is not None
    assert spans[1].attributes["error.type"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert "secret body" not in repr([dict(span.attributes or {}) for span in spans])


def test_a_client_made_with_tracing_off_has_no_hooks() -> None:
    client = traced(boto3.client("sqs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"))
    with Stubber(client) as stub:
        stub.add_response("send_message", {"MessageId": "m"})
        client.send_message(QueueUrl="https://q", MessageBody="b")  # no span and no error with tracing off
    assert not tracing.enabled()
    assert tracing.carrier() == {}


def test_spans_wait_for_the_flush_and_leave_in_one_export() -> None:
    exports: list[int] = []

    class Counting(SpanExporter):
        def export(self, spans: Any) -> SpanExportResult:
            exports.append(len(spans))
            return SpanExportResult.SUCCESS

    sdk.start("http://127.0.0.1:1/v1/traces", exporter=Counting())
    try:
        with tracing.server_span("GET /v1/health"), tracing.span("a"), tracing.span("b"):
            pass
        assert exports == []
        tracing.flush()
        tracing.flush()  # nothing left: no empty export
    finally:
        tracing.disable()
    assert exports == [3]


def test_a_failing_export_never_fails_the_invocation() -> None:
    class Broken(SpanExporter):
        def export(self, spans: Any) -> SpanExportResult:
            raise ConnectionError("collector down")

    processor = sdk.InvocationSpanProcessor(Broken())
    provider = TracerProvider()
    provider.add_span_processor(processor)
    provider.get_tracer("t").start_span("a").end()
    assert processor.force_flush() is False  # logged, not raised
    assert processor.force_flush() is True  # the lost spans are not retried later


def test_the_buffer_is_bounded_and_counts_what_it_drops() -> None:
    exporter = InMemorySpanExporter()
    processor = sdk.InvocationSpanProcessor(exporter, max_spans=2)
    provider = TracerProvider()
    provider.add_span_processor(processor)
    for name in "abc":
        provider.get_tracer("t").start_span(name).end()
    assert processor.dropped == 1
    assert processor.force_flush() is True
    assert [span.name for span in exporter.get_finished_spans()] == ["a", "b"]
    assert processor.dropped == 0


def test_log_lines_carry_the_trace_id(exported: InMemorySpanExporter) -> None:
    with tracing.opened("process Q", [("req-5", {"traceparent": PARENT})]), tracing.resumed("req-5"):
        assert logger.thread_safe_get_current_keys()[tracing.TRACE_ID_LOG_KEY] == TRACE_ID


def test_tracing_on_needs_an_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACING", "On")
    with pytest.raises(ValidationError, match="TRACING_ENDPOINT"):
        TracingSettings.from_environment()
    monkeypatch.setenv("TRACING_ENDPOINT", "http://127.0.0.1:4318/v1/traces")
    assert TracingSettings.from_environment().on
    monkeypatch.setenv("TRACING", "Off")
    monkeypatch.delenv("TRACING_ENDPOINT")
    assert not TracingSettings.from_environment().on


def test_invocations_at_once_with_one_correlation_id_keep_their_own_spans(exported: InMemorySpanExporter) -> None:
    """The local stack runs the worker and the webhooks consumer of one request at once, on two threads, for
    two messages with the same correlation id: each finds its own span."""
    barrier = threading.Barrier(2)
    found: dict[str, str | None] = {}

    def invocation(trace_id: str) -> None:
        with tracing.opened("process Q", [("req-6", {"traceparent": f"00-{trace_id}-{'b' * 16}-01"})]):
            barrier.wait(timeout=5)  # both open at once
            with tracing.resumed("req-6"):
                found[trace_id] = tracing.current_trace_id()
            barrier.wait(timeout=5)

    threads = [threading.Thread(target=invocation, args=(digit * 32,)) for digit in "cd"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert found == {"c" * 32: "c" * 32, "d" * 32: "d" * 32}


def test_a_task_pool_s_tasks_continue_their_own_message_s_trace(exported: InMemorySpanExporter) -> None:
    other = f"00-{'e' * 32}-{'f' * 16}-01"
    with tracing.opened("process Q", [("one", {"traceparent": PARENT}), ("two", {"traceparent": other})]):
        found = TaskPool(2).map(lambda _: tracing.current_trace_id(), ["a", "b", "c"], ["one", "two", None])

    assert found == [TRACE_ID, "e" * 32, None]


def test_a_message_whose_work_fails_has_a_failed_span(exported: InMemorySpanExporter) -> None:
    with pytest.raises(KeyError), tracing.opened("process Q", [("req-7", {})]):
        raise KeyError("a foreign key")

    [span] = _spans(exported).values()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes is not None
    assert span.attributes["error.type"] == "KeyError"
