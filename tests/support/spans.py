"""Spans recorded in memory: tracing switched on with the SDK's in-memory exporter in place of OTLP/HTTP."""

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared.adapters import tracing as sdk
from shared.kernel import tracing


@contextmanager
def recorded_spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on for the block, every export kept by the yielded exporter; off again after."""
    exporter = InMemorySpanExporter()
    sdk.start("http://127.0.0.1:1/v1/traces", exporter=exporter)
    try:
        yield exporter
    finally:
        tracing.disable()
