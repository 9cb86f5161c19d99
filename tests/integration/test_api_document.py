"""The deployed document function answers the committed ``openapi.json`` and a Swagger UI page for it."""

import json
import re

from tests.support.events import response_json
from tests.support.gateway import call, route
from tools.template import ROOT


def test_the_function_answers_the_committed_document(stack: object) -> None:
    response = call("GET", "/openapi.json")

    assert route("GET", "/openapi.json") == ("GetApiDocumentFunction", "GET /openapi.json")
    assert response["statusCode"] == 200
    assert response["headers"]["content-type"] == "application/json"
    assert not response.get("isBase64Encoded")
    assert response_json(response) == json.loads((ROOT / "openapi.json").read_text(encoding="utf-8"))


def test_the_function_answers_swagger_ui_for_the_document(stack: object) -> None:
    response = call("GET", "/docs")

    assert route("GET", "/docs") == ("GetApiDocumentFunction", "GET /docs")
    assert response["statusCode"] == 200
    assert response["headers"]["content-type"].startswith("text/html")
    assert "SwaggerUIBundle" in response["body"]
    assert "url: '/openapi.json'" in response["body"]
    # One pinned Swagger UI; the page may load only it and call only this origin.
    scripts = re.findall(r'<script src="([^"]+)"', response["body"])
    assert scripts == ["https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.17.14/swagger-ui-bundle.js"]
    assert "fastapi.tiangolo.com" not in response["body"]
    policy = response["headers"]["content-security-policy"]
    assert "connect-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert response["headers"]["x-content-type-options"] == "nosniff"
