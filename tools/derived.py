"""The committed files derived from ``template.yaml`` and the routers; ``make openapi`` rewrites them.

- ``openapi.json``: the routers' OpenAPI document (``tools.openapi``).
- ``shared/api/known_routes.py``: every (method, path) of the HTTP API, for the ``$default`` function's
  404/405 answers (a Lambda package holds no template to read at run time).
- the functions table of ``docs/architecture.md``, between its marker comments: each function's
  trigger, table access and other permissions, as SAM's translation of the template deploys them.
- the timeouts table of ``docs/architecture.md``: every network call's timeouts and retries, from the
  code that applies them (``tools.timeouts_table``).
- the JWT callers' API in ``template.yaml`` itself, between its marker comments: the API-key API's routes
  behind a JWT authorizer (``tools.jwt_api``).

``tests/contract/test_derived.py`` fails when a committed file differs from what this makes now.
"""

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from tools import openapi
from tools.jwt_api import JWT_END, JWT_START, TEMPLATE, jwt_api_block
from tools.template import ROOT, FunctionSpec, Template, load_template
from tools.timeouts_table import TIMEOUTS_END, TIMEOUTS_START, timeouts_table

OPENAPI = ROOT / "openapi.json"
KNOWN_ROUTES = ROOT / "shared" / "api" / "known_routes.py"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
TABLE_START = "<!-- functions table: generated from template.yaml by `make openapi`, do not edit -->"
TABLE_END = "<!-- end of the generated functions table -->"
TABLE_LOGICAL_ID = "Table"  # the DynamoDB table whose access has a column of its own
_SUB_ARN = re.compile(r"^\$\{(?P<resource>[A-Za-z0-9]+)\.Arn\}(?P<rest>.*)$")


def known_routes_module(template: Template) -> str:
    routes = [(route.method, route.path) for spec in template.functions for route in spec.routes]
    lines = "".join(f'    ("{method}", "{path}"),\n' for method, path in routes)
    return (
        '"""Every (method, path) the HTTP API serves, in template order: generated from template.yaml by\n'
        '`make openapi` (``tools.derived``), do not edit. ``shared.api.routes`` tells 404 from 405 with it."""\n'
        "\n"
        f"KNOWN_ROUTES: tuple[tuple[str, str], ...] = (\n{lines})\n"
    )


def functions_table(template: Template) -> str:
    functions = template.functions
    shared_layers = set.intersection(*({str(layer) for layer in spec.layers} for spec in functions))
    rows = ["| Function | Trigger | Table access | Other |", "|---|---|---|---|"]
    for spec in functions:
        table, other = _grants(spec)
        layers = [_name(layer) for layer in spec.layers if str(layer) not in shared_layers]
        managed = [_name(policy) for policy in spec.managed_policy_arns if isinstance(policy, dict)]
        cells = [spec.logical_id.removesuffix("Function"), _trigger(spec, functions), table or "none"]
        cells.append("; ".join([*layers, *managed, *other]))
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def with_functions_table(document: str, table: str) -> str:
    """``document`` with the text between the table's marker comments replaced by ``table``."""
    return between_markers(document, TABLE_START, TABLE_END, table, "the functions table")


def between_markers(document: str, start_marker: str, end_marker: str, text: str, what: str) -> str:
    """``document`` with the text between a generated part's two marker comments replaced by ``text``."""
    before, start, rest = document.partition(start_marker + "\n")
    _, end, after = rest.partition(end_marker)
    if not start or not end:
        raise ValueError(f"the document lacks the marker comments of {what}")
    return f"{before}{start}\n{text}\n{end}{after}"


def _architecture(template: Template) -> str:
    document = with_functions_table(ARCHITECTURE.read_text(encoding="utf-8"), functions_table(template))
    return between_markers(document, TIMEOUTS_START, TIMEOUTS_END, timeouts_table(template), "the timeouts table")


def _template(template: Template) -> str:
    text = template.text or TEMPLATE.read_text(encoding="utf-8")
    return between_markers(text, JWT_START, JWT_END, jwt_api_block(template), "the JWT callers' API")


# In the order they are written: the route table first, as the app that renders openapi.json imports it.
_GENERATORS: tuple[tuple[Path, Callable[[Template], str]], ...] = (
    (TEMPLATE, _template),
    (KNOWN_ROUTES, known_routes_module),
    (OPENAPI, lambda template: openapi.render()),
    (ARCHITECTURE, _architecture),
)


def rendered(template: Template | None = None) -> dict[Path, str]:
    """Each derived file's content as the generator makes it now."""
    template = template or load_template()
    return {path: generate(template) for path, generate in _GENERATORS}


def write() -> list[Path]:
    """Rewrite the derived files that changed, one after the other; the paths written."""
    template = load_template()
    written = []
    for path, generate in _GENERATORS:
        content = generate(template)
        if not path.exists() or path.read_text(encoding="utf-8") != content:
            path.write_text(content, encoding="utf-8")
            written.append(path)
    return written


def _trigger(spec: FunctionSpec, functions: Iterable[FunctionSpec]) -> str:
    triggers = [f"`{route.method} {route.path}`" for route in spec.routes]
    triggers += ["`$default`"] if spec.default_route else []
    triggers += [f"{trigger.queue} (`BatchSize: {trigger.batch_size}`)" for trigger in spec.queue_triggers]
    triggers += [f"`{expression}` (EventBridge Scheduler)" for expression in spec.schedules]
    callers = [
        caller.logical_id.removesuffix("Function")
        for caller in functions
        for statement in caller.policy_statements
        if "lambda:InvokeFunction" in _as_list(statement["Action"])
        and {"Fn::GetAtt": [spec.logical_id, "Arn"]} in _as_list(statement["Resource"])
    ]
    triggers += [f"invoked by {caller}" for caller in callers]
    return ", ".join(triggers) or "none"


def _grants(spec: FunctionSpec) -> tuple[str, list[str]]:
    """(the table access, the other grants) of the function's inline statements, in their order."""
    table: list[str] = []
    other: dict[str, list[str]] = {}
    for statement in spec.policy_statements:
        for action in _as_list(statement["Action"]):
            for resource in _as_list(statement["Resource"]):
                target = _target(resource)
                if target == f"`{TABLE_LOGICAL_ID}`":
                    _add(table, action.removeprefix("dynamodb:"))
                elif target.startswith(f"`{TABLE_LOGICAL_ID}/index/"):
                    index = target.removeprefix(f"`{TABLE_LOGICAL_ID}/index/").removesuffix("`")
                    _add(table, f"{action.removeprefix('dynamodb:')} on the `{index}` index")
                else:
                    _add(other.setdefault(f"`{action}`", []), target)
    return ", ".join(table), [f"{action} on {', '.join(targets)}" for action, targets in other.items()]


def _target(resource: Any) -> str:
    """A statement's resource as the table shows it: a logical id, or a bucket's key prefix."""
    if isinstance(resource, dict) and "Fn::GetAtt" in resource:
        return f"`{resource['Fn::GetAtt'][0]}`"
    if isinstance(resource, dict) and "Fn::Sub" in resource and isinstance(resource["Fn::Sub"], str):
        match = _SUB_ARN.match(resource["Fn::Sub"])
        if match and match["rest"].startswith("/") and match["resource"] != TABLE_LOGICAL_ID:
            return f"`{match['rest'].removeprefix('/')}`"
        if match:
            return f"`{match['resource']}{match['rest']}`"
    return f"`{_name(resource)}`"


def _name(value: Any) -> str:
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return str(value["Ref"])
    return str(value)


def _add(found: list[str], item: str) -> None:
    if item not in found:
        found.append(item)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
