"""Read ``template.yaml``: the single source of truth for functions, routes, queues and tables.

The functions are read from the template's CloudFormation translation (``tools.translate``, the SAM
translator ``sam`` itself runs), so the local stack and the tests see exactly the handler, runtime,
memory, timeout, environment, layers, execution role, event source mappings, schedules and HTTP
routes that ``sam deploy`` creates. Tables, queues, buckets and secrets are plain CloudFormation and
are read from the template as written (``raw``, ``of_type``).
"""

import os
import re
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import yaml

from tools.translate import cached_translation, translate

ROOT = Path(__file__).resolve().parent.parent
# INFERGATE_TEMPLATE runs the local stack and the tools from another template (a copy being tried out).
TEMPLATE_PATH = Path(os.environ.get("INFERGATE_TEMPLATE") or ROOT / "template.yaml")
DEFAULT_ROUTE = "$default"
KEY_API = "HttpApi"  # the API whose routes the functions' HttpApi events declare (callers with API keys)
_SUB_REFERENCE = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.Arn)?\}")
_LAYER_HASH = re.compile(r"[0-9a-f]{10}")  # SAM appends a content hash to a layer's logical id


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form intrinsics (``!Ref X`` -> ``{"Ref": "X"}``)."""


def _intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


@dataclass(frozen=True)
class HttpRoute:
    method: str
    path: str


@dataclass(frozen=True)
class QueueTrigger:
    queue: str  # logical id of the AWS::SQS::Queue
    batch_size: int
    reports_item_failures: bool


@dataclass(frozen=True)
class FunctionSpec:
    """One ``AWS::Lambda::Function`` of the translated template, with what invokes it and its role."""

    logical_id: str
    code_uri: str  # the local code folder of template.yaml (the translation holds a placeholder S3 URI)
    handler: str
    runtime: str
    timeout: int
    memory_size: int
    environment: dict[str, Any]
    layers: tuple[Any, ...]  # {"Ref": <template layer>} (SAM's hashed logical ids mapped back) or ARNs
    role: str | None  # logical id of the execution role (None: the template names a role ARN itself)
    role_policies: tuple[dict[str, Any], ...]  # the role's inline policy documents, policy templates expanded
    managed_policy_arns: tuple[Any, ...]  # ARNs, or {"Ref": <the template's AWS::IAM::ManagedPolicy>}
    routes: tuple[HttpRoute, ...] = ()
    default_route: bool = False
    queue_triggers: tuple[QueueTrigger, ...] = ()
    schedules: tuple[str, ...] = ()  # rate(...) expressions

    @property
    def module(self) -> str:
        """Importable module of the handler, e.g. ``functions.create_prediction.app``."""
        package = self.code_uri.strip("/").replace("/", ".")
        return f"{package}.{self.handler.rsplit('.', 1)[0]}"

    @property
    def handler_name(self) -> str:
        return self.handler.rsplit(".", 1)[1]

    @property
    def folder(self) -> str:
        return self.code_uri.strip("/").rsplit("/", 1)[-1]

    @property
    def is_api(self) -> bool:
        """Triggered by the HTTP API (an ``HttpApi`` event: a route or the catch-all default route)."""
        return bool(self.routes) or self.default_route

    @property
    def policy_statements(self) -> list[dict[str, Any]]:
        """Every statement of the role's inline policies (not those of its managed policies)."""
        return [statement for document in self.role_policies for statement in _as_list(document["Statement"])]


@dataclass(frozen=True)
class Template:
    raw: dict[str, Any]  # template.yaml as written (short-form intrinsics as their long form)
    text: str | None = None  # the YAML it was parsed from: the key of the cached translation

    @property
    def resources(self) -> dict[str, Any]:
        resources: dict[str, Any] = self.raw["Resources"]
        return resources

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """Resources of template.yaml as written (``AWS::Serverless::*`` untranslated)."""
        return {name: res for name, res in self.resources.items() if res["Type"] == resource_type}

    def parameter_defaults(self) -> dict[str, Any]:
        return {name: spec.get("Default") for name, spec in self.raw.get("Parameters", {}).items()}

    @cached_property
    def translated(self) -> dict[str, Any]:
        """The CloudFormation template SAM makes of this one (``tools.translate``)."""
        return cached_translation(self.text, self.raw) if self.text is not None else translate(self.raw)

    @cached_property
    def functions(self) -> list[FunctionSpec]:
        """The template's functions in template order, as the translation deploys them."""
        return read_functions(self, self.translated)

    def routes_on(self, api: str) -> dict[str, list[HttpRoute]]:
        """Each function's routes on the HTTP API ``api`` (a logical id), as the translation deploys them."""
        return _FunctionReader(self, self.translated).api_routes(api)

    def function(self, logical_id: str) -> FunctionSpec:
        for spec in self.functions:
            if spec.logical_id == logical_id:
                return spec
        raise KeyError(f"template.yaml has no function '{logical_id}'")


def read_functions(template: Template, translated: dict[str, Any]) -> list[FunctionSpec]:
    """The functions of ``template`` as ``translated`` (its CloudFormation translation) deploys them."""
    return _FunctionReader(template, translated).read()


class _FunctionReader:
    """Builds the :class:`FunctionSpec` of each function from the translated resources."""

    def __init__(self, template: Template, translated: dict[str, Any]) -> None:
        self._template = template
        self._resources: dict[str, dict[str, Any]] = translated["Resources"]
        self._layers = self._layer_names()

    def _of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {name: res for name, res in self._resources.items() if res["Type"] == resource_type}

    def read(self) -> list[FunctionSpec]:
        routes = self._routes()
        triggers = self._queue_triggers()
        schedules = self._schedules()
        specs = []
        for logical_id in self._template.of_type("AWS::Serverless::Function"):
            props = self._resources[logical_id]["Properties"]
            role = self._role(props.get("Role"))
            role_props = self._resources[role]["Properties"] if role else {}
            own_routes = routes.get(logical_id, [])
            specs.append(
                FunctionSpec(
                    logical_id=logical_id,
                    code_uri=self._code_uri(logical_id),
                    handler=props["Handler"],
                    runtime=props["Runtime"],
                    timeout=int(props.get("Timeout", 3)),
                    memory_size=int(props.get("MemorySize", 128)),
                    environment=dict(props.get("Environment", {}).get("Variables", {})),
                    layers=tuple(self._layer(layer) for layer in props.get("Layers", [])),
                    role=role,
                    role_policies=tuple(policy["PolicyDocument"] for policy in role_props.get("Policies", [])),
                    managed_policy_arns=tuple(role_props.get("ManagedPolicyArns", [])),
                    routes=tuple(route for route in own_routes if route.path != DEFAULT_ROUTE),
                    default_route=any(route.path == DEFAULT_ROUTE for route in own_routes),
                    queue_triggers=tuple(triggers.get(logical_id, [])),
                    schedules=tuple(schedules.get(logical_id, [])),
                )
            )
        return specs

    def _code_uri(self, logical_id: str) -> str:
        written = self._template.resources[logical_id].get("Properties", {}).get("CodeUri")
        code_uri = written or self._template.raw.get("Globals", {}).get("Function", {}).get("CodeUri")
        if not isinstance(code_uri, str):
            raise ValueError(f"{logical_id}: CodeUri must be a local folder, not {code_uri!r}")
        return code_uri

    def _layer_names(self) -> dict[str, dict[str, str]]:
        """SAM's logical id of each template layer (``SharedLayerb4518ec817``) -> a Ref to the template's."""
        names = {}
        for translated_id in self._of_type("AWS::Lambda::LayerVersion"):
            for layer_id in self._template.of_type("AWS::Serverless::LayerVersion"):
                suffix = translated_id.removeprefix(layer_id)
                if suffix != translated_id and _LAYER_HASH.fullmatch(suffix):
                    names[translated_id] = {"Ref": layer_id}
        return names

    def _layer(self, layer: Any) -> Any:
        """A Ref to the template's layer (or an ARN); a conditional one (``!If [Cond, !Ref L, !Ref AWS::NoValue]``)
        keeps its ``Fn::If`` with the Ref mapped back."""
        if isinstance(layer, dict) and set(layer) == {"Fn::If"}:
            condition, when_true, when_false = layer["Fn::If"]
            return {"Fn::If": [condition, self._layer(when_true), self._layer(when_false)]}
        return self._layers.get(_ref(layer) or "", layer)

    def _role(self, role: Any) -> str | None:
        if isinstance(role, dict) and "Fn::GetAtt" in role:
            logical_id, _ = role["Fn::GetAtt"]
            return str(logical_id)
        return None

    def _function_of(self, logical_id: str) -> str | None:
        """The function a function, its alias or its version is (None: not a function)."""
        resource = self._resources.get(logical_id)
        if resource is None:
            return None
        if resource["Type"] == "AWS::Lambda::Function":
            return logical_id
        if resource["Type"] in {"AWS::Lambda::Alias", "AWS::Lambda::Version"}:
            return _ref(resource["Properties"]["FunctionName"])
        return None

    def _target(self, value: Any) -> str | None:
        """The function a ``Ref``, ``Fn::GetAtt`` or ``Fn::Sub`` (an integration URI) points at."""
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            return self._function_of(value["Fn::GetAtt"][0])
        if isinstance(value, dict) and "Fn::Sub" in value:
            text, variables = (value["Fn::Sub"], {}) if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"]
            found = [
                self._target(variables[name]) if name in variables else self._function_of(name)
                for name in _SUB_REFERENCE.findall(text)
            ]
            return next((name for name in found if name), None)
        reference = _ref(value)
        return self._function_of(reference) if reference else None

    def _routes(self) -> dict[str, list[HttpRoute]]:
        """Each function's routes on the API-key API (the JWT callers' API repeats them: ``tools.jwt_api``)."""
        return self.api_routes(KEY_API)

    def api_routes(self, api: str) -> dict[str, list[HttpRoute]]:
        """Each function's routes on ``api``: the paths of its OpenAPI body whose integration invokes it."""
        routes: dict[str, list[HttpRoute]] = {}
        body = self._resources[api]["Properties"].get("Body")
        if body is None:
            raise ValueError(f"{api}: the local stack reads routes from the API's inline OpenAPI body")
        for path, operations in body.get("paths", {}).items():
            for operation_name, operation in operations.items():
                integration = operation.get("x-amazon-apigateway-integration")
                if integration is None:
                    continue
                function = self._target(integration["uri"])
                if function is None:
                    raise ValueError(f"{api}: {operation_name} {path} invokes no template function")
                method = operation_name.upper().removeprefix("X-AMAZON-APIGATEWAY-")
                method = "ANY" if method == "ANY-METHOD" else method
                routes.setdefault(function, []).append(HttpRoute(method, path))
        return {name: sorted(found, key=lambda route: (route.path, route.method)) for name, found in routes.items()}

    def _queue_triggers(self) -> dict[str, list[QueueTrigger]]:
        triggers: dict[str, list[QueueTrigger]] = {}
        for mapping in self._of_type("AWS::Lambda::EventSourceMapping").values():
            props = mapping["Properties"]
            source = props["EventSourceArn"]
            if not (isinstance(source, dict) and "Fn::GetAtt" in source):
                raise ValueError(f"event source {source!r} is not a queue of the template")
            queue = str(source["Fn::GetAtt"][0])
            if self._resources[queue]["Type"] != "AWS::SQS::Queue":
                raise ValueError(f"event source {queue} is not an SQS queue: the local stack polls queues only")
            function = self._target(props["FunctionName"])
            if function is None:
                raise ValueError(f"event source mapping of {queue} invokes no template function")
            triggers.setdefault(function, []).append(
                QueueTrigger(
                    queue=queue,
                    batch_size=int(props.get("BatchSize", 10)),
                    reports_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
                )
            )
        return triggers

    def _schedules(self) -> dict[str, list[str]]:
        """EventBridge Scheduler schedules (``ScheduleV2``) and EventBridge rules (``Schedule``)."""
        schedules: dict[str, list[str]] = {}
        scheduler = self._of_type("AWS::Scheduler::Schedule").values()
        rules = self._of_type("AWS::Events::Rule").values()
        targets = [(s["Properties"]["ScheduleExpression"], s["Properties"]["Target"]["Arn"]) for s in scheduler]
        targets += [
            (rule["Properties"]["ScheduleExpression"], target["Arn"])
            for rule in rules
            if "ScheduleExpression" in rule["Properties"]
            for target in rule["Properties"].get("Targets", [])
        ]
        for expression, target in targets:
            function = self._target(target)
            if function is not None:
                schedules.setdefault(function, []).append(str(expression))
        return schedules


def _ref(value: Any) -> str | None:
    if isinstance(value, dict) and set(value) == {"Ref"} and isinstance(value["Ref"], str):
        return value["Ref"]
    return None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def parse(text: str) -> Template:
    return Template(yaml.load(text, Loader=_CfnLoader), text)  # noqa: S506 - SafeLoader subclass with CFN tags


@cache
def load_template(path: Path = TEMPLATE_PATH) -> Template:
    return parse(path.read_text(encoding="utf-8"))


def rate_seconds(expression: str) -> float:
    """Seconds between runs of a ``rate(N unit)`` schedule expression."""
    value, unit = expression.removeprefix("rate(").removesuffix(")").split()
    per_unit = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}
    return float(value) * per_unit[unit]
