"""Distributed tracing (opt-in): spans through the OpenTelemetry API, made only while tracing is on.

Off (the template's default), nothing here imports OpenTelemetry and every function is a no-op: a span is
``yield``, a carrier is ``{}``. On, ``shared.adapters.tracing`` builds the SDK's provider and calls
:func:`enable` once per process, before any client or handler is made (``shared.wiring.start_tracing``).

One trace follows a prediction: the API request's span (:func:`server_span`), the SQS message (the W3C
``traceparent`` of the sending span as a message attribute, :func:`carrier`), the worker's span for that
message (:func:`opened`, continued on the threads that work for it with :func:`resumed`), the model call
and the webhook delivery, with a span for each AWS call (``shared.adapters.clients``) under whichever is
current.

What goes into a span is chosen here and by the callers, never taken from a request: names are route
templates and operations, attributes are ids, model names, versions, tenants, status codes and error
types. No input, output, URL, header, key, token, secret or exception message. A carrier read from a
message is parsed for its ``traceparent`` alone (ids in hex, validated by the W3C propagator);
``tracestate`` and baggage are dropped, and a malformed or missing one starts a new trace.
"""

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Literal, ParamSpec, TypeVar

from shared.kernel.observability import append_log_keys

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.trace import Span, Tracer

TRACEPARENT = "traceparent"
TRACE_ID_LOG_KEY = "trace_id"
TENANT = "infergate.tenant"
MODEL = "infergate.model"
MODEL_VERSION = "infergate.model.version"
MODEL_CALL_SPAN = "model.predict"  # the span of one runtime call: the worker, the sync routes and embeddings

Kind = Literal["server", "client", "producer", "consumer", "internal"]
Attribute = str | int | float | bool
Attributes = Mapping[str, Attribute | None]
SetStatus = Callable[[int], None]
P = ParamSpec("P")
R = TypeVar("R")


class _Tracing:
    __slots__ = ("flush", "tracer")

    def __init__(self, tracer: "Tracer", flush: Callable[[], None]) -> None:
        self.tracer = tracer
        self.flush = flush


_tracing: _Tracing | None = None
# The span of each message being worked on, by its correlation id, for the code and the task threads that work
# for it (``resumed``). A context variable: the invocation's own (``TaskPool`` runs tasks in copies of the
# submitter's context, so they see it), never another invocation's, though the local stack runs several at once
# and a request's messages on two queues carry the same correlation id.
_open: ContextVar[Mapping[str, "Context"] | None] = ContextVar("infergate_open_spans", default=None)


def enable(tracer: "Tracer", flush: Callable[[], None]) -> None:
    """Tracing on for this process: spans from ``tracer``; ``flush`` exports what ended (end of invocation)."""
    global _tracing
    _tracing = _Tracing(tracer, flush)


def disable() -> None:
    global _tracing
    _tracing = None


def enabled() -> bool:
    return _tracing is not None


def flush() -> None:
    """Export the spans that ended, before the invocation returns (Lambda freezes the process after)."""
    if _tracing is not None:
        _tracing.flush()


def flushed(handler: Callable[P, R]) -> Callable[P, R]:
    """``handler`` exporting its invocation's spans before it returns or raises (every Lambda handler's)."""

    @functools.wraps(handler)
    def invoke(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return handler(*args, **kwargs)
        finally:
            flush()

    return invoke


@contextmanager
def span(
    name: str,
    attributes: Attributes | None = None,
    *,
    kind: Kind = "internal",
    within: str | None = None,
    links: Sequence[str] = (),
) -> Iterator[None]:
    """A span current inside the block: a child of the current span, or of the open span of the correlation
    id ``within``, linked to the open spans of ``links`` (a model call that serves several messages)."""
    if _tracing is None:
        yield
        return
    from opentelemetry import trace

    parent = _context_of(within)
    linked = [trace.Link(trace.get_current_span(ctx).get_span_context()) for ctx in map(_context_of, links) if ctx]
    with _tracing.tracer.start_as_current_span(
        name,
        context=parent,
        kind=_kind(kind),
        attributes=_clean(attributes),
        links=linked,
        record_exception=False,  # an exception's message may quote an input
        set_status_on_exception=False,
    ) as current:
        try:
            yield
        except BaseException as exc:
            _failed(current, exc)
            raise


@contextmanager
def server_span(route: str, attributes: Attributes | None = None) -> Iterator[SetStatus]:
    """The span of one API request, named by its route template (``POST /v1/predictions``), never by the
    path a caller sent; a new trace (a caller's ``traceparent`` is not trusted). Yields the setter of the
    response's status code. The invocation's log lines carry its trace id."""
    if _tracing is None:
        yield _ignore
        return
    method = route.partition(" ")[0] if " " in route else None
    base: dict[str, Attribute | None] = {"http.route": route.partition(" ")[2] or route, "http.request.method": method}
    with _tracing.tracer.start_as_current_span(
        route,
        context=_root(),
        kind=_kind("server"),
        attributes=_clean({**base, **(attributes or {})}),
        record_exception=False,
        set_status_on_exception=False,
    ) as current:
        append_log_keys(**{TRACE_ID_LOG_KEY: _trace_id(current)})

        def status(code: int) -> None:
            current.set_attribute("http.response.status_code", code)
            if code >= 500:
                _failed(current, None)

        try:
            yield status
        except BaseException as exc:
            _failed(current, exc)
            raise


@contextmanager
def opened(
    name: str, messages: Sequence[tuple[str, Mapping[str, str]]], attributes: Attributes | None = None
) -> Iterator[None]:
    """One consumer span per received message, each continuing the trace its carrier names (a new trace
    when it names none), open for the block and registered under the message's correlation id, so that
    :func:`resumed` and :func:`span`'s ``within`` find it. None is made current here: the messages of one
    delivery may belong to as many traces."""
    if _tracing is None:
        yield
        return
    from opentelemetry import trace

    started: list[Span] = []
    registry = dict(_open.get() or {})
    try:
        for correlation_id, message_carrier in messages:
            current = _tracing.tracer.start_span(
                name, context=_extracted(message_carrier), kind=_kind("consumer"), attributes=_clean(attributes)
            )
            started.append(current)
            registry[correlation_id] = trace.set_span_in_context(current, _root())
        token = _open.set(registry)
        try:
            yield
        except BaseException as exc:
            for current in started:
                _failed(current, exc)
            raise
        finally:
            _open.reset(token)
    finally:
        for current in started:
            current.end()


@contextmanager
def resumed(correlation_id: str | None) -> Iterator[None]:
    """The open span of ``correlation_id`` current inside the block (work for one message, on any thread);
    the block's log lines carry its trace id. Nothing when it has none."""
    context = _context_of(correlation_id) if _tracing is not None else None
    if context is None:
        yield
        return
    from opentelemetry import context as otel_context
    from opentelemetry import trace

    token = otel_context.attach(context)
    try:
        append_log_keys(**{TRACE_ID_LOG_KEY: _trace_id(trace.get_current_span())})
        yield
    finally:
        otel_context.detach(token)


class Started:
    """A span started by :func:`start` (a call seen through callbacks, not a block): end it once."""

    __slots__ = ("_span",)

    def __init__(self, started: "Span") -> None:
        self._span = started

    def end(self, attributes: Attributes | None = None, error: str | None = None) -> None:
        self._span.set_attributes(_clean(attributes))
        if error is not None:
            from opentelemetry.trace import StatusCode

            self._span.set_status(StatusCode.ERROR)
            self._span.set_attribute("error.type", error)
        self._span.end()


def start(name: str, attributes: Attributes | None = None, *, kind: Kind = "client") -> Started | None:
    """A span under the current one, not made current, ended by its :meth:`Started.end`; None when off."""
    if _tracing is None:
        return None
    return Started(_tracing.tracer.start_span(name, kind=_kind(kind), attributes=_clean(attributes)))


def annotate(attributes: Attributes) -> None:
    """Set ``attributes`` on the current span (the tenant once the caller is known, say)."""
    if _tracing is None:
        return
    from opentelemetry import trace

    trace.get_current_span().set_attributes(_clean(attributes))


def carrier() -> dict[str, str]:
    """The current span's context as W3C ``traceparent``, to send with a message or a webhook; ``{}`` when
    tracing is off or no span is current."""
    if _tracing is None:
        return {}
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    found: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(found)
    return {TRACEPARENT: found[TRACEPARENT]} if TRACEPARENT in found else {}


def current_trace_id() -> str | None:
    """The current trace's id (32 hex digits), or None."""
    if _tracing is None:
        return None
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    return _trace_id(trace.get_current_span()) if context.is_valid else None


def _extracted(message_carrier: Mapping[str, str]) -> "Context":
    """The context a carrier's ``traceparent`` names, or an empty one (a new trace): nothing else is read."""
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    value = message_carrier.get(TRACEPARENT)
    if not isinstance(value, str):
        return _root()
    return TraceContextTextMapPropagator().extract({TRACEPARENT: value}, context=_root())


def _root() -> "Context":
    from opentelemetry.context import Context

    return Context()


def _context_of(correlation_id: str | None) -> "Context | None":
    registry = _open.get()
    return registry.get(correlation_id) if registry is not None and correlation_id is not None else None


def _kind(kind: Kind) -> "trace.SpanKind":
    from opentelemetry import trace

    return trace.SpanKind[kind.upper()]


def _clean(attributes: Attributes | None) -> dict[str, Attribute]:
    return {name: value for name, value in (attributes or {}).items() if value is not None}


def _failed(current: "Span", exc: BaseException | None) -> None:
    from opentelemetry.trace import StatusCode

    current.set_status(StatusCode.ERROR)
    if exc is not None:
        current.set_attribute("error.type", type(exc).__qualname__)


def _trace_id(current: "Span") -> str:
    return format(current.get_span_context().trace_id, "032x")


def _ignore(_: int) -> None:
    return None


if TYPE_CHECKING:
    from opentelemetry import trace
