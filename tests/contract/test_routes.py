"""template.yaml, the routers and the catch-all's route table describe the same routes."""

from importlib import import_module

from fastapi.routing import APIRoute

from shared.api.known_routes import KNOWN_ROUTES
from shared.api.routes import allowed_methods
from tools.template import load_template


def _template_routes() -> set[tuple[str, str]]:
    return {(r.method, r.path) for spec in load_template().functions for r in spec.routes}


def test_route_table_matches_the_template() -> None:
    assert set(KNOWN_ROUTES) == _template_routes()


def test_each_function_router_serves_exactly_its_template_routes() -> None:
    for spec in load_template().functions:
        if not spec.routes:
            continue
        router = import_module(spec.module).router
        served = {(m, r.path) for r in router.routes if isinstance(r, APIRoute) for m in (r.methods or set())}
        assert served == {(r.method, r.path) for r in spec.routes}, spec.logical_id


def test_exactly_one_function_takes_the_default_route() -> None:
    assert [s.logical_id for s in load_template().functions if s.default_route] == ["RouteNotFoundFunction"]


def test_allowed_methods() -> None:
    assert allowed_methods("/v1/predictions") == ["GET", "POST"]
    assert allowed_methods("/v1/predictions/pred_x/cancel") == ["POST"]
    assert allowed_methods("/v1/predictions/a/b/c") == []
