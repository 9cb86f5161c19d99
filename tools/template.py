"""Read ``template.yaml``: the single source of truth for functions, routes, queues and tables."""

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = ROOT / "template.yaml"


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
    logical_id: str
    code_uri: str
    handler: str
    timeout: int
    memory_size: int
    environment: dict[str, Any]
    policies: list[Any]
    routes: list[HttpRoute] = field(default_factory=list)
    default_route: bool = False
    queue_triggers: list[QueueTrigger] = field(default_factory=list)
    schedules: list[str] = field(default_factory=list)  # rate(...) expressions

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


@dataclass(frozen=True)
class Template:
    raw: dict[str, Any]

    @property
    def resources(self) -> dict[str, Any]:
        resources: dict[str, Any] = self.raw["Resources"]
        return resources

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {name: res for name, res in self.resources.items() if res["Type"] == resource_type}

    def parameter_defaults(self) -> dict[str, Any]:
        return {name: spec.get("Default") for name, spec in self.raw.get("Parameters", {}).items()}

    @property
    def functions(self) -> list[FunctionSpec]:
        defaults = self.raw.get("Globals", {}).get("Function", {})
        specs = []
        for logical_id, resource in self.of_type("AWS::Serverless::Function").items():
            props = {**defaults, **resource["Properties"]}
            environment = {
                **defaults.get("Environment", {}).get("Variables", {}),
                **resource["Properties"].get("Environment", {}).get("Variables", {}),
            }
            spec = FunctionSpec(
                logical_id=logical_id,
                code_uri=props["CodeUri"],
                handler=props["Handler"],
                timeout=int(props.get("Timeout", 3)),
                memory_size=int(props.get("MemorySize", 128)),
                environment=environment,
                policies=list(resource["Properties"].get("Policies", [])),
            )
            for event in resource["Properties"].get("Events", {}).values():
                event_props = event.get("Properties", {})
                if event["Type"] == "HttpApi" and "Path" in event_props:
                    spec.routes.append(HttpRoute(event_props["Method"].upper(), event_props["Path"]))
                elif event["Type"] == "HttpApi":
                    spec = _with_default_route(spec)
                elif event["Type"] in {"Schedule", "ScheduleV2"}:
                    spec.schedules.append(str(event_props.get("ScheduleExpression") or event_props["Schedule"]))
                elif event["Type"] == "SQS":
                    spec.queue_triggers.append(
                        QueueTrigger(
                            queue=event_props["Queue"]["Fn::GetAtt"][0],
                            batch_size=int(event_props.get("BatchSize", 10)),
                            reports_item_failures="ReportBatchItemFailures"
                            in event_props.get("FunctionResponseTypes", []),
                        )
                    )
            specs.append(spec)
        return specs

    def function(self, logical_id: str) -> FunctionSpec:
        for spec in self.functions:
            if spec.logical_id == logical_id:
                return spec
        raise KeyError(f"template.yaml has no function '{logical_id}'")


def _with_default_route(spec: FunctionSpec) -> FunctionSpec:
    return FunctionSpec(
        spec.logical_id,
        spec.code_uri,
        spec.handler,
        spec.timeout,
        spec.memory_size,
        spec.environment,
        spec.policies,
        spec.routes,
        True,
        spec.queue_triggers,
        spec.schedules,
    )


def parse(text: str) -> Template:
    return Template(yaml.load(text, Loader=_CfnLoader))  # noqa: S506 - SafeLoader subclass with CFN tags


@cache
def load_template(path: Path = TEMPLATE_PATH) -> Template:
    return parse(path.read_text(encoding="utf-8"))


def rate_seconds(expression: str) -> float:
    """Seconds between runs of a ``rate(N unit)`` schedule expression."""
    value, unit = expression.removeprefix("rate(").removesuffix(")").split()
    per_unit = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}
    return float(value) * per_unit[unit]
