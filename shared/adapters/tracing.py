"""The OpenTelemetry SDK behind ``shared.kernel.tracing``: spans exported over OTLP/HTTP, once per invocation.

Imported only when tracing is on (``shared.wiring.start_tracing``); the SDK and its exporter come from the
TracingLayer, which a deployment with tracing off does not attach.

Why a processor of our own rather than the SDK's ``BatchSpanProcessor`` or ``SimpleSpanProcessor``: Lambda
freezes the process as soon as a handler returns, so spans must be exported before it does, and the batch
processor's background thread may be frozen mid-export (and, in the local stack, a bare thread runs outside
the function's context). The simple processor exports each span as it ends, one HTTP request per span (a
prediction's create makes about six). :class:`InvocationSpanProcessor` keeps the spans that end, in memory
and bounded, and the handler exports them in one request at the end of each invocation (``flush``), on its
own thread: no thread of its own, one round trip per invocation, nothing left behind at a freeze.
"""

import threading
from typing import TYPE_CHECKING

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter

from shared.kernel import tracing
from shared.kernel.call_policies import TRACE_EXPORT
from shared.kernel.observability import SERVICE_NAME, logger

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.sdk.trace import Span

TRACER_NAME = "infergate"
MAX_BUFFERED_SPANS = 2048  # an invocation's spans are tens; beyond this one, spans are dropped (and counted)


class InvocationSpanProcessor(SpanProcessor):
    """Keeps ended spans until :meth:`force_flush` exports them, all in one export."""

    def __init__(self, exporter: SpanExporter, max_spans: int = MAX_BUFFERED_SPANS) -> None:
        self._exporter = exporter
        self._max_spans = max_spans
        self._spans: list[ReadableSpan] = []
        self._lock = threading.Lock()
        self.dropped = 0

    def on_start(self, span: "Span", parent_context: "Context | None" = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        if not span.context.trace_flags.sampled:
            return
        with self._lock:
            if len(self._spans) < self._max_spans:
                self._spans.append(span)
            else:
                self.dropped += 1

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        with self._lock:
            spans, self._spans = self._spans, []
            dropped, self.dropped = self.dropped, 0
        if dropped:
            logger.warning("trace spans dropped", extra={"dropped": dropped})
        if not spans:
            return True
        try:
            result = self._exporter.export(spans)
        except Exception:  # noqa: BLE001 - a tracing backend that is down never fails a request
            logger.warning("trace export failed", exc_info=True)
            return False
        return result.name == "SUCCESS"

    def shutdown(self) -> None:
        self.force_flush()
        self._exporter.shutdown()


def start(endpoint: str, exporter: SpanExporter | None = None) -> TracerProvider:
    """A provider whose spans go to the OTLP/HTTP traces ``endpoint`` (``http(s)://host:port/v1/traces``),
    given to ``shared.kernel.tracing``; the exporter's timeout is ``TRACE_EXPORT``'s."""
    processor = InvocationSpanProcessor(
        exporter or OTLPSpanExporter(endpoint=endpoint, timeout=TRACE_EXPORT.deadline_seconds)
    )
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE_NAME}))
    provider.add_span_processor(processor)
    tracing.enable(provider.get_tracer(TRACER_NAME), lambda: _flush(processor))
    return provider


def _flush(processor: InvocationSpanProcessor) -> None:
    processor.force_flush(int(TRACE_EXPORT.deadline_seconds * 1000))
