"""API Gateway's ``$default`` route: any request no other route matched gets a 404 or 405 problem."""

from fastapi import APIRouter, Request
from starlette.exceptions import HTTPException

from shared.api.app import lambda_handler
from shared.api.jsonbody import StrictJsonRoute
from shared.api.routes import allowed_methods

router = APIRouter(route_class=StrictJsonRoute)
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


@router.api_route("/{path:path}", methods=ALL_METHODS, include_in_schema=False)
async def route_not_found(request: Request) -> None:
    # The problem handler names the allowed methods (``Allow``), as it does for every 405.
    raise HTTPException(status_code=405 if allowed_methods(request.url.path) else 404)


handler = lambda_handler(router)
