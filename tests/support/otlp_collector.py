"""A tiny OTLP/HTTP trace collector on 127.0.0.1: accepts protobuf ``ExportTraceServiceRequest`` POSTs on
``/v1/traces`` (as the OpenTelemetry exporter sends them, gzip or not), decodes them with
``opentelemetry-proto`` and keeps every span and the raw bytes received."""

import gzip
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from tests.support.loopback import QuietHandler, base_url, serving

TRACES_PATH = "/v1/traces"


@dataclass(frozen=True)
class ExportedSpan:
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    kind: int
    attributes: dict[str, Any]
    links: tuple[str, ...]  # trace ids


@dataclass
class Collector:
    url: str
    spans: list[ExportedSpan] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)  # every export's decoded protobuf bytes
    refused: list[str] = field(default_factory=list)  # requests that were not OTLP trace exports
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def named(self, name: str) -> list[ExportedSpan]:
        with self._lock:
            return [span for span in self.spans if span.name == name]

    def of_trace(self, trace_id: str) -> list[ExportedSpan]:
        with self._lock:
            return [span for span in self.spans if span.trace_id == trace_id]


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


def _spans(request: ExportTraceServiceRequest) -> Iterator[ExportedSpan]:
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                yield ExportedSpan(
                    name=span.name,
                    trace_id=span.trace_id.hex(),
                    span_id=span.span_id.hex(),
                    parent_span_id=span.parent_span_id.hex(),
                    kind=span.kind,
                    attributes={attribute.key: _value(attribute.value) for attribute in span.attributes},
                    links=tuple(link.trace_id.hex() for link in span.links),
                )


@contextmanager
def collector() -> Iterator[Collector]:
    state = Collector(url="")

    class Handler(QuietHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            if self.headers.get("content-encoding") == "gzip":
                body = gzip.decompress(body)
            if self.path != TRACES_PATH or self.headers.get("content-type") != "application/x-protobuf":
                with state._lock:
                    state.refused.append(f"{self.path} {self.headers.get('content-type')}")
                self.send_response(400)
                self.end_headers()
                return
            request = ExportTraceServiceRequest.FromString(body)
            with state._lock:
                state.raw.append(body)
                state.spans.extend(_spans(request))
            answer = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("content-type", "application/x-protobuf")
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

    with serving(Handler) as server:
        state.url = f"{base_url(server)}{TRACES_PATH}"
        yield state
