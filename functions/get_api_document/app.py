"""GET /openapi.json and GET /docs (open): the committed OpenAPI document and its Swagger UI."""

from fastapi import APIRouter, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from shared.api.app import lambda_handler
from shared.api.jsonbody import StrictJsonRoute
from shared.api.openapi import Tag, committed_document

router = APIRouter(tags=[Tag.DOCUMENTATION], route_class=StrictJsonRoute)
DOCUMENT_PATH = "/openapi.json"
# One exact version (a floating major would run whatever the CDN serves next, on the origin people paste
# their API keys into), and a page that may load only it and call only this origin.
SWAGGER_UI = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.17.14"
DOCS_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src https://cdn.jsdelivr.net 'unsafe-inline'; "
    "style-src https://cdn.jsdelivr.net 'unsafe-inline'; img-src https://cdn.jsdelivr.net data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


@router.get(
    DOCUMENT_PATH,
    response_class=Response,
    responses={200: {"description": "This document.", "content": {"application/json": {"schema": {"type": "object"}}}}},
    summary="The OpenAPI document",
)
async def get_api_document() -> Response:
    """This OpenAPI 3.1 document, as committed with the deployed code (`openapi.json`): every operation,
    its errors, the security scheme and the webhook events. Needs no key; feed it to a client generator."""
    return Response(
        committed_document(),
        media_type="application/json",
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


@router.get(
    "/docs",
    response_class=HTMLResponse,
    responses={200: {"description": "An HTML page.", "content": {"text/html": {"schema": {"type": "string"}}}}},
    summary="Swagger UI",
)
async def get_api_docs() -> HTMLResponse:
    """Swagger UI for `/openapi.json`: read the API and try it out with an API key (`Authorize`). Needs no
    key; the page loads one pinned version of Swagger UI from a CDN, and may call only this origin."""
    page = get_swagger_ui_html(
        openapi_url=DOCUMENT_PATH,
        title="Infergate API",
        swagger_js_url=f"{SWAGGER_UI}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER_UI}/swagger-ui.css",
        swagger_favicon_url=f"{SWAGGER_UI}/favicon-32x32.png",
    )
    page.headers.update(DOCS_HEADERS)
    return page


handler = lambda_handler(router)
