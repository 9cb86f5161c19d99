"""GET /openapi.json and GET /docs (open): the committed OpenAPI document and its Swagger UI."""

from fastapi import APIRouter, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from shared.api.app import lambda_handler
from shared.api.jsonbody import StrictJsonRoute
from shared.api.openapi import Tag, committed_document

router = APIRouter(tags=[Tag.DOCUMENTATION], route_class=StrictJsonRoute)
DOCUMENT_PATH = "/openapi.json"


@router.get(
    DOCUMENT_PATH,
    response_class=Response,
    responses={200: {"description": "This document.", "content": {"application/json": {"schema": {"type": "object"}}}}},
    summary="The OpenAPI document",
)
async def get_api_document() -> Response:
    """This OpenAPI 3.1 document, as committed with the deployed code (`openapi.json`): every operation,
    its errors, the security scheme and the webhook events. Needs no key; feed it to a client generator."""
    return Response(committed_document(), media_type="application/json")


@router.get(
    "/docs",
    response_class=HTMLResponse,
    responses={200: {"description": "An HTML page.", "content": {"text/html": {"schema": {"type": "string"}}}}},
    summary="Swagger UI",
)
async def get_api_docs() -> HTMLResponse:
    """Swagger UI for `/openapi.json`: read the API and try it out with an API key (`Authorize`). Needs no
    key; the page loads Swagger UI's scripts from a CDN."""
    return get_swagger_ui_html(openapi_url=DOCUMENT_PATH, title="Infergate API")


handler = lambda_handler(router)
