"""The concurrency controls an operator reaches for are template parameters, and their defaults protect
the account: every queue consumer is capped, nothing is reserved or provisioned unless asked for."""

from typing import Any

import pytest

from tools.template import load_template

CAPPED_QUEUES = {
    "RunPredictionsFunctionPredictions": "PredictionsMaxConcurrency",
    "ProcessBatchesFunctionBatches": "BatchesMaxConcurrency",
    "DeliverWebhooksFunctionWebhooks": "WebhooksMaxConcurrency",
}


def _resources(kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in load_template().translated["Resources"].items() if v["Type"] == kind}


def _parameter(name: str) -> dict[str, Any]:
    parameter: dict[str, Any] = load_template().raw["Parameters"][name]
    return parameter


def _resolved(value: Any, conditions: dict[str, bool]) -> Any:
    """``value`` with its ``Fn::If`` decided by ``conditions`` (``None`` for ``AWS::NoValue``)."""
    if isinstance(value, dict) and "Fn::If" in value:
        name, then, otherwise = value["Fn::If"]
        return _resolved(then if conditions[name] else otherwise, conditions)
    return None if value == {"Ref": "AWS::NoValue"} else value


def test_every_queue_consumer_is_capped_by_a_parameter_within_sqs_limits() -> None:
    mappings = _resources("AWS::Lambda::EventSourceMapping")
    queues = _resources("AWS::SQS::Queue")
    sqs = {
        name
        for name, mapping in mappings.items()
        if mapping["Properties"]["EventSourceArn"].get("Fn::GetAtt", [None])[0] in queues
    }

    assert sqs == set(CAPPED_QUEUES)
    for mapping, parameter in CAPPED_QUEUES.items():
        assert mappings[mapping]["Properties"]["ScalingConfig"] == {"MaximumConcurrency": {"Ref": parameter}}
        assert (_parameter(parameter)["MinValue"], _parameter(parameter)["MaxValue"]) == (2, 1000)  # SQS's range
        assert 2 <= _parameter(parameter)["Default"] <= 20


def test_the_http_api_stages_throttle_is_set_by_parameters() -> None:
    """Both APIs' stages: the API keys' and, when JwtIssuer is set, the JWT callers'."""
    stages = _resources("AWS::ApiGatewayV2::Stage")

    assert {stage["Properties"]["ApiId"]["Ref"] for stage in stages.values()} == {"HttpApi", "JwtHttpApi"}
    for stage in stages.values():
        assert stage["Properties"]["DefaultRouteSettings"] == {
            "ThrottlingRateLimit": {"Ref": "ApiRateLimit"},
            "ThrottlingBurstLimit": {"Ref": "ApiBurstLimit"},
        }
    assert _parameter("ApiRateLimit")["Default"] < _parameter("ApiBurstLimit")["Default"]


@pytest.mark.parametrize(("reserved", "expected"), [(-1, None), (40, {"Ref": "WorkerReservedConcurrency"})])
def test_the_worker_reserves_concurrency_only_when_asked(reserved: int, expected: Any) -> None:
    worker = _resources("AWS::Lambda::Function")["RunPredictionsFunction"]["Properties"]

    setting = _resolved(worker.get("ReservedConcurrentExecutions"), {"ReservesWorker": reserved != -1})

    assert setting == expected
    assert _parameter("WorkerReservedConcurrency")["Default"] == -1


@pytest.mark.parametrize(("provisioned", "expected"), [(0, None), (2, {"Ref": "PredictProvisionedConcurrency"})])
def test_the_sync_predict_alias_is_provisioned_only_when_asked(provisioned: int, expected: Any) -> None:
    aliases = _resources("AWS::Lambda::Alias")
    alias = aliases["PredictModelFunctionAliaslive"]["Properties"]

    config = _resolved(alias.get("ProvisionedConcurrencyConfig"), {"ProvisionsPredict": provisioned != 0})

    assert (config or {}).get("ProvisionedConcurrentExecutions") == expected
    assert _parameter("PredictProvisionedConcurrency")["Default"] == 0
    # Lambda refuses provisioned concurrency on a SnapStart version: SnapStart (ApiSnapStart) only when none is.
    function = _resources("AWS::Lambda::Function")["PredictModelFunction"]["Properties"]
    snapstart = _resolved(function["SnapStart"]["ApplyOn"], {"ProvisionsPredict": provisioned != 0})
    assert snapstart == ("None" if provisioned else {"Ref": "ApiSnapStart"})
    others = [name for name, a in aliases.items() if "ProvisionedConcurrencyConfig" in a["Properties"]]
    assert others == ["PredictModelFunctionAliaslive"]
