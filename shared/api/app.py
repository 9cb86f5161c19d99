"""The one app factory: every route function and the local server are built by it."""

import asyncio
from collections.abc import Callable
from typing import Any, cast

from aws_lambda_powertools.utilities.typing import LambdaContext
from fastapi import APIRouter
from fastapi.routing import APIRoute
from mangum import Mangum
from mangum.adapter import DEFAULT_TEXT_MIME_TYPES

from shared import __version__, snapstart, wiring
from shared.api.jsonbody import StrictJsonRoute
from shared.api.middleware import RequestContextMiddleware
from shared.api.openapi import OPENAPI_TAGS, SERVERS, DocumentedApp, operation_id
from shared.api.problems import PROBLEM_MEDIA_TYPE, install_problem_handlers
from shared.kernel import tracing
from shared.kernel.observability import logged_invocation, metrics

API_DESCRIPTION = """\
Self-hosted serverless model inference: synchronous predictions, asynchronous predictions with
optional wait, a model registry (built-ins plus versioned ONNX models from presigned uploads), the
Open Inference Protocol (KServe V2, `/v2`, errors there are `{"error": ...}`), and API keys with scopes
and strict tenant isolation. Every authenticated request counts against its key's rate limit: over it,
429 with `Retry-After`.

Registered (custom) models are private to the tenant that registered them: other tenants can neither
see nor use them (404), and may register the same name for their own. Built-in models are shared.
A JSON body that names one key twice in an object is refused (400 `malformed-json`), never read with
one of its values.

Every error is an RFC 9457 `application/problem+json` document, but on `/v2` (above) and on the
OpenAI-compatible routes (`POST /v1/embeddings`, `/v1/files`, the parts, complete and cancel of
`/v1/uploads/{id}`), whose errors are OpenAI's `{"error": {"message", "type", "param", "code"}}` so that
OpenAI's SDKs work unchanged. The routes both dialects share (`POST /v1/uploads`, `/v1/batches`) answer a
problem document that also carries OpenAI's `error` member, and 400 instead of 422 for an OpenAI-shaped
request. Multipart bodies are at most 4,669,440 bytes, JSON bodies 1 MiB (413). Every response carries
`X-Request-Id`, the correlation id of the logs.

Lists: `/v1/predictions` and `/v1/keys` take `limit` (1-100, default 20) and an opaque `cursor`, and answer
`{"results": [...], "next": cursor|null}`, newest first; `/v1/batches` and `/v1/files` answer OpenAI's list
object (`data`, `has_more`, paged with `after`; batches also take `cursor` and answer `next`); `/v1/models`
and a prediction's webhook deliveries are not paged.

API Gateway answers a few requests itself, before any function runs, in its own shape
`{"message": ...}` as `application/json`: over the stage's throttle a 429 `Too Many Requests` (without
`Retry-After`: back off exponentially), and its own 413 and 5xx for a request it cannot hand to a function.
"""

LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def create_app(*routers: APIRouter) -> DocumentedApp:
    """The app of one route function, or of all (the local stack, the OpenAPI document). It serves no
    document of its own: ``GetApiDocumentFunction`` serves the committed one, here as deployed."""
    app = DocumentedApp(
        title="Infergate",
        version=__version__,
        description=API_DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        openapi_tags=OPENAPI_TAGS,
        servers=SERVERS,
        generate_unique_id_function=operation_id,
        # FastAPI's own OpenTelemetry spans name the raw path and query a caller sent (text a tenant chose) and
        # its logs quote invalid input: off, always. The request's span is ours (``lambda_handler``), named by
        # the route template.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    for router in routers:
        _check_json_bodies(router)
        app.include_router(router)
    install_problem_handlers(app)
    app.add_middleware(RequestContextMiddleware)
    return app


def _check_json_bodies(router: APIRouter) -> None:
    """Every route decodes bodies with the strict decoder: a router without it would accept duplicate keys."""
    for route in router.routes:
        if isinstance(route, APIRoute) and not isinstance(route, StrictJsonRoute):
            raise TypeError(f"{route.path}: build the router with APIRouter(route_class=StrictJsonRoute)")


def lambda_handler(router: APIRouter) -> LambdaHandler:
    """Build the app and its Mangum adapter once per container (SnapStart: once per published
    version); wrap with Powertools."""
    # problem+json is text: without this Mangum would base64-encode every error body.
    text_types = [*DEFAULT_TEXT_MIME_TYPES, PROBLEM_MEDIA_TYPE]
    adapter = Mangum(create_app(router), lifespan="off", text_mime_types=text_types)
    # Mangum runs each request on `asyncio.get_event_loop()`, which raises once anything in the
    # process has run and closed a loop of its own (`asyncio.run` leaves "no current loop" behind)
    # and is deprecated when it has to make one. The handler owns its loop and makes it current.
    loop = asyncio.new_event_loop()
    wiring.start_tracing()  # before the snapshot's clients are made, so they are traced
    snapstart.register()

    @metrics.log_metrics
    @logged_invocation
    @tracing.flushed
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        asyncio.set_event_loop(loop)
        route = str(event.get("routeKey", "$default"))
        with tracing.server_span(route, {"faas.name": context.function_name}) as status:
            response: dict[str, Any] = adapter(event, cast(Any, context))
            status(int(response.get("statusCode", 500)))
        return response

    return handler
