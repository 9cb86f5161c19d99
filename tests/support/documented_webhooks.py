"""The webhook events as the committed ``openapi.json`` documents them: a delivered body is checked
against its event's schema there (JSON Schema 2020-12, with the document's components), so what a
receiver gets and what a generator reads cannot drift apart."""

import json
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator

from tools.template import ROOT


@cache
def _validators() -> dict[str, Draft202012Validator]:
    document = json.loads((ROOT / "openapi.json").read_text(encoding="utf-8"))
    found = {}
    for event, item in document["webhooks"].items():
        schema = item["post"]["requestBody"]["content"]["application/json"]["schema"]
        found[event] = Draft202012Validator({**schema, "components": document["components"]})
    return found


def check_documented(payload: Any) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``payload`` is its event's documented body."""
    validators = _validators()
    assert payload.get("type") in validators, f"undocumented webhook event {payload.get('type')!r}"
    validators[payload["type"]].validate(payload)
