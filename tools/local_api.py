"""The local HTTP API: every route function's router, mounted on the same app factory."""

from importlib import import_module

from fastapi import APIRouter, FastAPI

from shared.api.app import create_app
from tools.template import Template, load_template


def routers(template: Template) -> list[APIRouter]:
    """Routers of the functions that serve explicit routes, in template order."""
    found: list[APIRouter] = []
    for spec in template.functions:
        if spec.routes:
            found.append(import_module(spec.module).router)
    return found


def build_app(template: Template | None = None) -> FastAPI:
    return create_app(*routers(template or load_template()), with_docs=True)
