"""What deploys differently from the local stack, checked on the translated template (issue 18, item 5).

The emulator and the local stack accept what Lambda and API Gateway refuse or cut short: an environment
over 4 KB, an integration that outlives its function, a handler the package does not hold, SnapStart
where Lambda cannot take a snapshot. Each check returns the problems it finds, so that its negative test
can show it finding one in a drifted copy of the facts. (Queue visibility against the consumer's timeout
is ``test_template.test_every_queue_with_a_consumer_has_a_dlq_and_enough_visibility``.)
"""

import copy
import dataclasses
import itertools
import json
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from tools.template import ROOT, FunctionSpec, Template, load_template

# ---------------------------------------------------------------- environment: Lambda's 4 KB
# Lambda measures the variables map as JSON (its refusal reads "... exceeded the 4KB limit. String
# measured: {"KEY":"value",...}"): keys, values, quotes, colons and commas count.
ENVIRONMENT_LIMIT_BYTES = 4096

# The longest value CloudFormation can give a `!Ref` of each resource type once deployed (names and ARNs
# it generates, or their service's own limit on them), so the measure holds for any stack name and region.
_REGION = "x" * 20  # longer than any region name (ap-southeast-5 is 14)
_ACCOUNT = "0" * 12
_REF_LENGTHS = {
    "AWS::DynamoDB::Table": 255,  # DynamoDB's limit on a table name
    "AWS::S3::Bucket": 63,  # S3's limit on a bucket name
    "AWS::Serverless::Function": 64,  # Lambda's limit on a function name
    "AWS::Serverless::HttpApi": 10,  # an API id
    # a queue URL: https://sqs.<region>.amazonaws.com/<account>/<name of at most 80 characters>
    "AWS::SQS::Queue": len(f"https://sqs.{_REGION}.amazonaws.com/{_ACCOUNT}/") + 80,
    # a secret ARN: arn:aws:secretsmanager:<region>:<account>:secret:<name of at most 512>-<6 random>
    "AWS::SecretsManager::Secret": len(f"arn:aws-us-gov:secretsmanager:{_REGION}:{_ACCOUNT}:secret:") + 512 + 7,
}
_PSEUDO_PARAMETERS = {
    "AWS::Region": _REGION,
    "AWS::AccountId": _ACCOUNT,
    "AWS::Partition": "aws-us-gov",
    "AWS::URLSuffix": "amazonaws.com.cn",
    "AWS::StackName": "x" * 128,
}
_SUB_VARIABLE = re.compile(r"\$\{([^}!]+)\}")
_UNBOUNDED_NUMBER = 20  # a Number parameter without MaxValue: as long as a float prints


def _parameter_length(spec: dict[str, Any]) -> int:
    """The longest value a parameter can take: its allowed values, its maximum, or its default."""
    candidates = [str(value) for value in spec.get("AllowedValues", [])]
    if not candidates:
        candidates = [str(spec.get("Default", ""))]
        if spec["Type"] == "Number":
            candidates.append("9" * _UNBOUNDED_NUMBER if "MaxValue" not in spec else str(spec["MaxValue"]))
        elif "MaxLength" in spec:
            candidates.append("x" * int(spec["MaxLength"]))
    return max(len(candidate) for candidate in candidates)


def _longest_value(value: Any, template: Template) -> str:
    """A stand-in for a variable's deployed value, at least as long as anything it can resolve to."""
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, dict) and set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
        return _SUB_VARIABLE.sub(lambda found: _longest_value({"Ref": found.group(1)}, template), value["Fn::Sub"])
    if isinstance(value, dict) and set(value) == {"Ref"}:
        name = value["Ref"]
        if name in _PSEUDO_PARAMETERS:
            return _PSEUDO_PARAMETERS[name]
        if name in template.raw.get("Parameters", {}):
            return "x" * _parameter_length(template.raw["Parameters"][name])
        resource_type = template.resources.get(name, {}).get("Type")
        if resource_type in _REF_LENGTHS:
            return "x" * _REF_LENGTHS[resource_type]
    raise AssertionError(f"no bound for the deployed length of {value!r}: add one to _REF_LENGTHS")


def environment_bytes(spec: FunctionSpec, template: Template) -> int:
    variables = {key: _longest_value(value, template) for key, value in spec.environment.items()}
    return len(json.dumps(variables, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def environment_problems(specs: Iterable[FunctionSpec], template: Template) -> list[str]:
    problems = []
    for spec in specs:
        size = environment_bytes(spec, template)
        if size > ENVIRONMENT_LIMIT_BYTES:
            problems.append(f"{spec.logical_id}: environment of {size} bytes > {ENVIRONMENT_LIMIT_BYTES}")
    return problems


def test_every_function_s_environment_fits_lambda_s_4_kb() -> None:
    template = load_template()
    sizes = {spec.logical_id: environment_bytes(spec, template) for spec in template.functions}
    largest = max(sizes, key=lambda name: sizes[name])
    margin = ENVIRONMENT_LIMIT_BYTES - sizes[largest]

    assert environment_problems(template.functions, template) == [], f"margin {margin} bytes ({largest})"
    assert margin > 0, f"largest environment: {largest}, {sizes[largest]} bytes, margin {margin} bytes"


def test_an_environment_over_4_kb_is_found() -> None:
    template = load_template()
    spec = template.function("CreateKeyFunction")
    grown = dataclasses.replace(spec, environment={**spec.environment, "EXTRA": "x" * ENVIRONMENT_LIMIT_BYTES})

    assert environment_problems([spec], template) == []
    assert environment_problems([grown], template) == [
        f"CreateKeyFunction: environment of {environment_bytes(grown, template)} bytes > 4096"
    ]


def test_an_environment_value_of_unknown_length_is_refused() -> None:
    template = load_template()
    spec = template.function("CreateKeyFunction")
    unknown = dataclasses.replace(spec, environment={"TOPIC": {"Ref": "AlarmTopic"}})

    with pytest.raises(AssertionError, match="no bound for the deployed length"):
        environment_problems([unknown], template)


# ---------------------------------------------------------------- API Gateway's 30-second integration limit
API_GATEWAY_TIMEOUT_MS = 30_000  # an HTTP API's longest integration timeout (its default, and not raisable)


def _integrations(translated: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(``API: METHOD path``, integration) of every route of the translated template's HTTP APIs (the API-key
    API's and the JWT callers')."""
    found = []
    for api_id, api in translated["Resources"].items():
        if api["Type"] == "AWS::ApiGatewayV2::Api":
            for path, operations in api["Properties"]["Body"].get("paths", {}).items():
                for method, operation in operations.items():
                    if "x-amazon-apigateway-integration" in operation:
                        route = f"{api_id}: {method.upper()} {path}"
                        found.append((route, operation["x-amazon-apigateway-integration"]))
    return found


def api_timeout_problems(specs: Iterable[FunctionSpec], translated: dict[str, Any]) -> list[str]:
    """An API function must end before its integration does, and the integration within API Gateway's 30 s."""
    problems = []
    for spec in specs:
        if spec.is_api and spec.timeout * 1000 >= API_GATEWAY_TIMEOUT_MS:
            problems.append(f"{spec.logical_id}: Timeout {spec.timeout} s is not under API Gateway's 30 s")
    timeouts = {spec.logical_id: spec.timeout for spec in specs}
    for route, integration in _integrations(translated):
        set_ms = integration.get("timeoutInMillis")
        if set_ms is None:
            continue
        if int(set_ms) > API_GATEWAY_TIMEOUT_MS:
            problems.append(f"{route}: timeoutInMillis {set_ms} is over API Gateway's {API_GATEWAY_TIMEOUT_MS}")
        target = re.search(r"(\w+?Function)(?:Alias|\.Arn|\})", json.dumps(integration["uri"]))
        function = target.group(1) if target else ""
        if function in timeouts and timeouts[function] * 1000 >= int(set_ms):
            problems.append(f"{route}: {function} (Timeout {timeouts[function]} s) outlives timeoutInMillis {set_ms}")
    return problems


def test_api_functions_and_their_integrations_end_before_api_gateway_does() -> None:
    template = load_template()

    assert any(spec.is_api for spec in template.functions)
    assert api_timeout_problems(template.functions, template.translated) == []


def test_an_api_function_as_long_as_api_gateway_s_limit_is_found() -> None:
    template = load_template()
    spec = template.function("CreatePredictionFunction")

    assert api_timeout_problems([dataclasses.replace(spec, timeout=30)], template.translated) == [
        "CreatePredictionFunction: Timeout 30 s is not under API Gateway's 30 s"
    ]


def test_an_integration_timeout_shorter_than_its_function_s_is_found() -> None:
    template = load_template()
    translated = copy.deepcopy(template.translated)
    for route, integration in _integrations(translated):
        if route.endswith(": POST /v1/predictions"):
            integration["timeoutInMillis"] = 5_000
        if route.endswith(": GET /v1/health"):
            integration["timeoutInMillis"] = 31_000

    assert sorted(api_timeout_problems(template.functions, translated)) == [
        f"{api}: {problem}"
        for api in ("HttpApi", "JwtHttpApi")
        for problem in (
            "GET /v1/health: timeoutInMillis 31000 is over API Gateway's 30000",
            "POST /v1/predictions: CreatePredictionFunction (Timeout 28 s) outlives timeoutInMillis 5000",
        )
    ]


# ---------------------------------------------------------------- every Handler importable from its code folder
# What `sam build` gives a function: its CodeUri folder at the package root (/var/task) and, on the
# path after it, the layers' python/ folder holding `shared` and the dependencies (here: the venv's).
_IMPORT_HANDLERS = textwrap.dedent(
    """
    import importlib, json, sys
    layer, checks = sys.argv[1], json.loads(sys.argv[2])
    sys.path.insert(0, layer)
    problems = []
    for logical_id, folder, module, attribute in checks:
        sys.path.insert(0, folder)
        top = module.split(".")[0]
        for name in [name for name in sys.modules if name == top or name.startswith(top + ".")]:
            del sys.modules[name]  # another function's `app`
        try:
            handler = getattr(importlib.import_module(module), attribute, None)
        except Exception as exc:
            problems.append(f"{logical_id}: cannot import {module} from {folder}: {type(exc).__name__}: {exc}")
        else:
            if not callable(handler):
                problems.append(f"{logical_id}: {module} has no callable {attribute}")
        sys.path.remove(folder)
    print(json.dumps(problems))
    """
)


def handler_problems(specs: Iterable[FunctionSpec], layer: Path) -> list[str]:
    checks = [
        (spec.logical_id, str(ROOT / spec.code_uri), spec.handler.rsplit(".", 1)[0], spec.handler_name)
        for spec in specs
    ]
    # -I: no PYTHONPATH and no working directory on the path: only the folder and the layer, as deployed
    done = subprocess.run(
        [sys.executable, "-I", "-c", _IMPORT_HANDLERS, str(layer), json.dumps(checks)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    problems: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return problems


@pytest.fixture(scope="module")
def layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A layer's python/ folder with `shared` alone: not the repository root, where `functions`,
    `tools` and `tests` would import too though no package holds them."""
    folder = tmp_path_factory.mktemp("layer")
    (folder / "shared").symlink_to(ROOT / "shared", target_is_directory=True)
    return folder


def test_every_handler_is_a_callable_of_a_module_in_its_code_folder(layer: Path) -> None:
    specs = load_template().functions

    assert handler_problems(specs, layer) == []


def test_a_handler_naming_a_missing_module_or_attribute_is_found(layer: Path) -> None:
    spec = load_template().function("GetHealthFunction")
    no_attribute = dataclasses.replace(spec, handler="app.handle")
    no_module = dataclasses.replace(spec, handler="main.handler")
    elsewhere = dataclasses.replace(spec, code_uri="functions/")  # app.py is not at this package's root

    problems = handler_problems([no_attribute, no_module, elsewhere], layer)

    assert problems[0] == "GetHealthFunction: app has no callable handle"
    assert problems[1].startswith("GetHealthFunction: cannot import main from ")
    assert problems[2].startswith("GetHealthFunction: cannot import app from ")
    assert len(problems) == 3


# ---------------------------------------------------------------- SnapStart only where Lambda supports it
# Source: AWS Lambda Developer Guide, "Improving startup performance with Lambda SnapStart", section
# "Supported features and limitations" (docs.aws.amazon.com/lambda/latest/dg/snapstart.html): managed
# runtimes Java 11+, Python 3.12+, .NET 8+; not with provisioned concurrency, Amazon EFS, ephemeral
# storage over 512 MB, nor container images. Both architectures are supported (arm64 since July 2024;
# the guide's earlier "does not support ... the arm64 architecture" is gone).
_SNAPSTART_RUNTIMES = {"python": (3, 12), "java": (11,), "dotnet": (8,)}
_SNAPSTART_ARCHITECTURES = {"arm64", "x86_64"}
_SNAPSTART_MAX_EPHEMERAL_MB = 512


def _runtime_supported(runtime: str) -> bool:
    found = re.fullmatch(r"([a-z]+)(\d+(?:\.\d+)*)", runtime)
    if not found or found.group(1) not in _SNAPSTART_RUNTIMES:
        return False
    return tuple(int(part) for part in found.group(2).split(".")) >= _SNAPSTART_RUNTIMES[found.group(1)]


def _may_snapstart(apply_on: Any, template: Template) -> bool:
    """Whether some deployment of the template turns SnapStart on (a parameter: any allowed value; a condition:
    either branch)."""
    if isinstance(apply_on, dict) and set(apply_on) == {"Ref"}:
        parameter = template.raw["Parameters"][apply_on["Ref"]]
        return "PublishedVersions" in parameter.get("AllowedValues", ["PublishedVersions"])
    if isinstance(apply_on, dict) and set(apply_on) == {"Fn::If"}:
        return any(_may_snapstart(branch, template) for branch in apply_on["Fn::If"][1:])
    return bool(apply_on == "PublishedVersions")


def _conditions_in(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = {value["Fn::If"][0]} if "Fn::If" in value else set()
        return found.union(*(_conditions_in(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(_conditions_in(item) for item in value))
    return set()


def _resolved(value: Any, conditions: dict[str, bool]) -> Any:
    """``value`` with every ``Fn::If`` decided by ``conditions`` (``None`` for ``AWS::NoValue``)."""
    if isinstance(value, dict) and "Fn::If" in value:
        name, then, otherwise = value["Fn::If"]
        return _resolved(then if conditions[name] else otherwise, conditions)
    return None if value == {"Ref": "AWS::NoValue"} else value


def _cases(*values: Any) -> list[dict[str, bool]]:
    """Every combination of the conditions these values depend on (one empty case when none)."""
    names = sorted(set().union(*(_conditions_in(value) for value in values)))
    return [dict(zip(names, truths, strict=True)) for truths in itertools.product((False, True), repeat=len(names))]


def snapstart_problems(template: Template, translated: dict[str, Any]) -> list[str]:
    """What Lambda refuses in some deployment: each combination of the template's conditions is judged alone,
    so SnapStart turned off exactly where provisioned concurrency is turned on is fine."""
    resources: dict[str, dict[str, Any]] = translated["Resources"]
    aliased = {
        alias["Properties"]["FunctionName"].get("Ref"): alias["Properties"]
        for alias in resources.values()
        if alias["Type"] == "AWS::Lambda::Alias"
    }
    problems = []
    for spec in template.functions:
        props = resources[spec.logical_id]["Properties"]
        apply_on = props.get("SnapStart", {}).get("ApplyOn", "None")
        if not _may_snapstart(apply_on, template):
            continue
        name = spec.logical_id
        if not _runtime_supported(props.get("Runtime", "")):
            problems.append(f"{name}: SnapStart on runtime {props.get('Runtime')}")
        for architecture in props.get("Architectures", ["x86_64"]):
            if architecture not in _SNAPSTART_ARCHITECTURES:
                problems.append(f"{name}: SnapStart on architecture {architecture}")
        storage = int(props.get("EphemeralStorage", {}).get("Size", 512))
        if storage > _SNAPSTART_MAX_EPHEMERAL_MB:
            problems.append(f"{name}: SnapStart with {storage} MB of ephemeral storage")
        if props.get("FileSystemConfigs"):
            problems.append(f"{name}: SnapStart with EFS")
        if props.get("PackageType") == "Image":
            problems.append(f"{name}: SnapStart on a container image")
        provisioned = aliased.get(name, {}).get("ProvisionedConcurrencyConfig")
        for case in _cases(apply_on, provisioned):
            if _may_snapstart(_resolved(apply_on, case), template) and _resolved(provisioned, case) is not None:
                problems.append(f"{name}: SnapStart with provisioned concurrency")
                break
    return problems


def test_snapstart_is_on_only_where_lambda_supports_it() -> None:
    template = load_template()
    on = [
        spec.logical_id
        for spec in template.functions
        if _may_snapstart(
            template.translated["Resources"][spec.logical_id]["Properties"]["SnapStart"]["ApplyOn"], template
        )
    ]

    assert len(on) > 1  # the API functions (ApiSnapStart)
    assert "PredictModelFunction" in on  # unless its alias is provisioned
    assert "CreateEmbeddingsFunction" in on  # its /tmp holds one model file at a time: 512 MB suffices
    assert snapstart_problems(template, template.translated) == []


def test_snapstart_where_lambda_refuses_it_is_found() -> None:
    template = load_template()
    translated = copy.deepcopy(template.translated)
    resources = translated["Resources"]
    resources["GetHealthFunction"]["Properties"]["EphemeralStorage"] = {"Size": 1024}
    resources["ListKeysFunction"]["Properties"]["Runtime"] = "python3.11"
    resources["ListModelsFunction"]["Properties"]["Architectures"] = ["riscv64"]
    resources["GetModelFunction"]["Properties"]["FileSystemConfigs"] = [{"Arn": "efs", "LocalMountPath": "/mnt/x"}]
    resources["GetModelFunctionAliaslive"]["Properties"]["ProvisionedConcurrencyConfig"] = {
        "ProvisionedConcurrentExecutions": 1
    }
    resources["RunPredictionsFunction"]["Properties"]["EphemeralStorage"] = {"Size": 10240}  # SnapStart off: fine

    assert snapstart_problems(template, translated) == [
        "GetHealthFunction: SnapStart with 1024 MB of ephemeral storage",
        "ListKeysFunction: SnapStart on runtime python3.11",
        "ListModelsFunction: SnapStart on architecture riscv64",
        "GetModelFunction: SnapStart with EFS",
        "GetModelFunction: SnapStart with provisioned concurrency",
    ]


def test_snapstart_on_a_function_whose_alias_may_be_provisioned_is_found_unless_a_condition_parts_them() -> None:
    template = load_template()
    translated = copy.deepcopy(template.translated)
    predict = translated["Resources"]["PredictModelFunction"]["Properties"]
    assert predict["SnapStart"] == {"ApplyOn": {"Fn::If": ["ProvisionsPredict", "None", {"Ref": "ApiSnapStart"}]}}
    assert snapstart_problems(template, translated) == []

    predict["SnapStart"] = {"ApplyOn": {"Ref": "ApiSnapStart"}}  # on even where PredictProvisionedConcurrency > 0

    assert snapstart_problems(template, translated) == ["PredictModelFunction: SnapStart with provisioned concurrency"]


def test_snapstart_set_by_a_parameter_counts_as_on() -> None:
    template = load_template()

    assert _may_snapstart({"Ref": "ApiSnapStart"}, template)
    assert not _may_snapstart("None", template)
    assert _may_snapstart({"Fn::If": ["ProvisionsPredict", "None", {"Ref": "ApiSnapStart"}]}, template)
    assert not _may_snapstart({"Fn::If": ["ProvisionsPredict", "None", "None"]}, template)
    assert _runtime_supported("python3.13")
    assert not _runtime_supported("nodejs22.x")
