"""Invariants of template.yaml that keep the deployment safe.

Functions are checked as SAM deploys them (``tools.template`` reads the translated template): each
one's execution role holds the statements of its ``Policies`` and the managed policies SAM adds.
"""

import dataclasses
import json
import re
from dataclasses import dataclass
from typing import Any

from shared.settings import ApiSettings, RuntimeSettings
from tests.contract.test_deploy_limits import API_GATEWAY_TIMEOUT_MS
from tools.iam_policy import string_like
from tools.template import ROOT, FunctionSpec, load_template

READ_ONLY_ACTIONS = {
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:BatchGetItem",
    "secretsmanager:GetSecretValue",
    "s3:GetObject",  # presigned GETs of batch result files are signed with the function's role
}
READ_ONLY_FUNCTIONS = {
    "GetHealthFunction",
    "GetApiDocumentFunction",
    "ListKeysFunction",
    "ListModelsFunction",
    "GetModelFunction",
    "ListPredictionsFunction",
    "GetPredictionFunction",
    "RouteNotFoundFunction",
    "ListWebhookDeliveriesFunction",
    "ListBatchesFunction",
    "GetBatchFunction",
}


CALLER_POLICY = {"Ref": "ApiCallerPolicy"}
OPEN_FUNCTIONS = {
    "GetHealthFunction",
    "GetApiDocumentFunction",
    "GetServerLiveFunction",
    "GetServerReadyFunction",
    "RouteNotFoundFunction",
}
# The AWS managed policies SAM attaches: logs for every function, receive/delete for an SQS event source.
LOGS_POLICY = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
SQS_POLLER_POLICY = "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"


def _statements(spec: FunctionSpec) -> list[dict[str, Any]]:
    """Every statement a function's role holds: its inline ones and those of the template's managed policies."""
    found = list(spec.policy_statements)
    for policy in spec.managed_policy_arns:
        if policy in (LOGS_POLICY, SQS_POLLER_POLICY):
            continue  # AWS's own, checked by test_functions_hold_only_the_aws_managed_policies_sam_adds
        assert isinstance(policy, dict), f"{spec.logical_id}: the template's own managed policies only, not {policy}"
        document = load_template().resources[policy["Ref"]]["Properties"]["PolicyDocument"]
        found.extend(document["Statement"])
    return found


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def _short_visibility(specs: list[FunctionSpec], queues: dict[str, dict[str, Any]]) -> list[str]:
    """Queues whose visibility timeout is under six times their consumer's timeout (AWS's SQS guidance)."""
    return [
        f"{trigger.queue}: {queues[trigger.queue]['Properties']['VisibilityTimeout']} s < 6 x {spec.timeout} s"
        for spec in specs
        for trigger in spec.queue_triggers
        if queues[trigger.queue]["Properties"]["VisibilityTimeout"] < 6 * spec.timeout
    ]


def test_every_queue_with_a_consumer_has_a_dlq_and_enough_visibility() -> None:
    template = load_template()
    queues = template.of_type("AWS::SQS::Queue")
    for spec in template.functions:
        for trigger in spec.queue_triggers:
            props = queues[trigger.queue]["Properties"]
            assert props["RedrivePolicy"]["maxReceiveCount"] >= 5
            assert trigger.reports_item_failures
    assert any(spec.queue_triggers for spec in template.functions)
    assert _short_visibility(template.functions, queues) == []


def test_a_consumer_outliving_its_queue_s_visibility_is_found() -> None:
    template = load_template()
    worker = template.function("RunPredictionsFunction")
    longer = dataclasses.replace(worker, timeout=worker.timeout + 1)

    assert _short_visibility([longer], template.of_type("AWS::SQS::Queue")) == [
        f"PredictionsQueue: 360 s < 6 x {worker.timeout + 1} s"
    ]


# The only '*' a resource may hold, each with its reason (docs/architecture.md, the functions' policies).
# The index ARNs (Outbox, Sweep) are named in full: no '*' in them, no exception needed.
WILDCARD_EXCEPTIONS = {
    "${ArtifactsBucket.Arn}/uploads/*": "S3 object ARNs name keys: tenants' uploaded bytes live under uploads/",
    "${ArtifactsBucket.Arn}/artifacts/*": "S3 object ARNs name keys: the inspector's verified model copies",
    "${ArtifactsBucket.Arn}/batches/*": "S3 object ARNs name keys: batch input chunks and result files",
}


def _wildcards(statements: list[dict[str, Any]]) -> list[str]:
    """Wildcard actions (``*``, ``service:*``, ``service:Get*``) and resources beyond WILDCARD_EXCEPTIONS, and
    the inverted forms (NotAction, NotResource) that grant everything but what they name."""
    found = []
    for statement in statements:
        found += [f"NotAction/NotResource in {statement}" for key in ("NotAction", "NotResource") if key in statement]
        found += [f"action {action}" for action in _actions(statement) if "*" in action]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for resource in resources:
            text = resource["Fn::Sub"] if isinstance(resource, dict) and "Fn::Sub" in resource else resource
            if isinstance(text, str) and "*" in text and text not in WILDCARD_EXCEPTIONS:
                found.append(f"resource {text}")
    return found


def test_no_wildcards_in_policies() -> None:
    used = set()
    for spec in load_template().functions:
        assert _wildcards(_statements(spec)) == [], spec.logical_id
        used |= {str(resource) for statement in _statements(spec) for resource in _as_list(statement["Resource"])}
    for exception in WILDCARD_EXCEPTIONS:  # an exception no statement needs any more is removed
        assert str({"Fn::Sub": exception}) in used, exception


def test_a_wildcard_action_or_resource_is_found() -> None:
    table = {"Fn::GetAtt": ["Table", "Arn"]}
    drifted: list[dict[str, Any]] = [
        {"Effect": "Allow", "Action": "dynamodb:*", "Resource": table},
        {"Effect": "Allow", "Action": "*", "Resource": table},
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": {"Fn::Sub": "${ArtifactsBucket.Arn}/*"}},
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": {"Fn::Sub": "${ArtifactsBucket.Arn}/uploads/*"}},
    ]

    assert _wildcards(drifted) == [
        "action dynamodb:*",
        "action *",
        "resource ${ArtifactsBucket.Arn}/*",
        "resource *",
    ]


def test_functions_hold_only_the_aws_managed_policies_sam_adds() -> None:
    """Logs for every function; SQS receive and delete (on any queue: AWS's policy) for queue consumers only."""
    for spec in load_template().functions:
        aws_managed = [policy for policy in spec.managed_policy_arns if isinstance(policy, str)]
        expected = [LOGS_POLICY, SQS_POLLER_POLICY] if spec.queue_triggers else [LOGS_POLICY]
        assert aws_managed == expected, spec.logical_id


def test_read_only_functions_have_read_only_access() -> None:
    """Read-only functions read; their only write is their caller's rate-limit item (ApiCallerPolicy)."""
    for spec in load_template().functions:
        if spec.logical_id in READ_ONLY_FUNCTIONS:
            for statement in spec.policy_statements:
                assert set(_actions(statement)) <= READ_ONLY_ACTIONS, spec.logical_id


def test_the_table_is_protected() -> None:
    [table] = load_template().of_type("AWS::DynamoDB::Table").values()
    props = table["Properties"]

    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["DeletionPolicy"] == "Retain"


MODEL_FUNCTIONS = {
    "RunPredictionsFunction",
    "PredictModelFunction",
    "CreateEmbeddingsFunction",
    "InspectModelArtifactFunction",
}


def test_only_inference_functions_carry_the_models_layer() -> None:
    template = load_template()
    for logical_id, resource in template.of_type("AWS::Serverless::Function").items():
        layers = resource["Properties"].get("Layers", [])
        has_models = {"Ref": "ModelsLayer"} in layers
        assert has_models == (logical_id in MODEL_FUNCTIONS), logical_id
    assert {"Ref": "ModelsLayer"} not in template.raw["Globals"]["Function"]["Layers"]


def test_only_the_functions_that_embed_carry_the_embedding_model_layer() -> None:
    """The built-in embedding model (data, ~23 MB) rides with the functions that serve models: the worker,
    synchronous predict and the embeddings route (not the inspector, which only checks tenants' files)."""
    template = load_template()
    for logical_id, resource in template.of_type("AWS::Serverless::Function").items():
        layers = resource["Properties"].get("Layers", [])
        has_model = {"Ref": "EmbeddingModelLayer"} in layers
        serving = {"RunPredictionsFunction", "PredictModelFunction", "CreateEmbeddingsFunction"}
        assert has_model == (logical_id in serving), logical_id
    assert {"Ref": "EmbeddingModelLayer"} not in template.raw["Globals"]["Function"]["Layers"]


def test_the_functions_with_the_embedding_model_layer_read_the_model_where_lambda_extracts_it() -> None:
    """Lambda extracts a layer under /opt; the layer's recipe writes the model under models/<name>/."""
    recipe = (ROOT / "layers" / "Makefile").read_text(encoding="utf-8")
    assert '--models-dir "$(ARTIFACTS_DIR)/models"' in recipe
    extracted = "/opt/models"
    for spec in load_template().functions:
        has_model = {"Ref": "EmbeddingModelLayer"} in spec.layers
        assert spec.environment.get("BUILTIN_MODELS_DIR") == (extracted if has_model else None), spec.logical_id
    assert RuntimeSettings.model_fields["builtin_models_dir"].default == extracted


def test_the_local_only_webhook_setting_is_never_deployed() -> None:
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")

    assert "WEBHOOKS_ALLOW_INSECURE" not in text
    assert "WEBHOOK_RETRY_SCALE" not in text


def test_every_authenticated_function_reads_keys_is_rate_limited_and_may_write_only_rate_items() -> None:
    """ApiCallerPolicy is what the auth dependency needs: the key's GetItem and the RATE# UpdateItem."""
    template = load_template()
    for spec in template.functions:
        if spec.routes and spec.logical_id not in OPEN_FUNCTIONS:
            assert CALLER_POLICY in spec.managed_policy_arns, spec.logical_id
    read, write = template.raw["Resources"]["ApiCallerPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert (read["Action"], read["Resource"], read.get("Condition")) == (
        "dynamodb:GetItem",
        {"Fn::GetAtt": ["Table", "Arn"]},
        None,
    )
    assert write["Action"] == "dynamodb:UpdateItem"
    assert _confined_to_rate_items(write)
    assert template.raw["Globals"]["Function"]["Environment"]["Variables"]["RATE_LIMIT_PER_SECOND"] == {
        "Ref": "RateLimitPerSecond"
    }


# The confinement of the rate limits' UpdateItem to RATE# items, checked on the policy document itself for
# keys of every kind (the local enforcement, tools.iam_policy, evaluates it only on the keys the tests write).
_RATE_KEYS = ("RATE#key#k_1#1700000000", "RATE#tenant#t_1")
_OTHER_KEYS = ("KEY#k_1", "TENANT#t_1", "PREDICTION#p_1", "RATE", "RATEX#k_1", "")


def _allows_leading_key(statement: dict[str, Any], key: str) -> bool:
    """Whether the statement's condition lets an item with partition key ``key`` be written. Only the one
    shape that confines a DynamoDB action is understood; any other condition (or none) allows every key."""
    condition = statement.get("Condition", {})
    patterns = condition.get("ForAllValues:StringLike", {}).get("dynamodb:LeadingKeys")
    if set(condition) != {"ForAllValues:StringLike"} or patterns is None:
        return True
    return any(string_like(pattern, key) for pattern in _as_list(patterns))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _confined_to_rate_items(statement: dict[str, Any]) -> bool:
    return all(_allows_leading_key(statement, key) for key in _RATE_KEYS) and not any(
        _allows_leading_key(statement, key) for key in _OTHER_KEYS
    )


def test_a_rate_items_statement_that_reaches_other_items_is_found() -> None:
    write = {"Effect": "Allow", "Action": "dynamodb:UpdateItem", "Resource": {"Fn::GetAtt": ["Table", "Arn"]}}
    confined = {**write, "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["RATE#*"]}}}

    assert _confined_to_rate_items(confined)
    assert not _confined_to_rate_items(write)  # no condition
    for patterns in (["*"], ["RATE*"], ["RATE#*", "KEY#*"]):
        assert not _confined_to_rate_items(
            {**write, "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": patterns}}}
        ), patterns
    assert not _confined_to_rate_items({**write, "Condition": {"StringLike": {"dynamodb:Attributes": ["RATE#*"]}}})


def test_tenants_have_a_rate_limit_and_a_cap_on_active_keys_set_by_parameters() -> None:
    """Per-tenant limits reach every function (the auth dependency checks them); the key cap reaches the
    function that creates keys; both default to on, the rate to a share of the stage's throttle."""
    template = load_template()
    parameters = template.raw["Parameters"]
    variables = template.raw["Globals"]["Function"]["Environment"]["Variables"]
    stage = template.raw["Resources"]["HttpApi"]["Properties"]["DefaultRouteSettings"]

    assert variables["TENANT_RATE_LIMIT_PER_SECOND"] == {"Ref": "TenantRateLimitPerSecond"}
    assert variables["TENANT_RATE_LIMIT_BURST"] == {"Ref": "TenantRateLimitBurst"}
    stage_rate, stage_burst = (
        parameters[stage[name]["Ref"]]["Default"] for name in ("ThrottlingRateLimit", "ThrottlingBurstLimit")
    )
    assert 0 < parameters["TenantRateLimitPerSecond"]["Default"] < stage_rate
    assert 0 < parameters["TenantRateLimitBurst"]["Default"] < stage_burst
    [create_key] = [spec for spec in template.functions if spec.logical_id == "CreateKeyFunction"]
    assert create_key.environment["MAX_KEYS_PER_TENANT"] == {"Ref": "MaxKeysPerTenant"}
    assert 100 <= parameters["MaxKeysPerTenant"]["Default"] <= 500


# ---------------------------------------------------------------- alarms (docs/architecture.md, Operations)
# A throttled queue worker ages its queue: a limit this short reports it within 15 minutes (5 for Throttles).
PROMPT_QUEUE_AGE_SECONDS = 900
MAX_METRICS_PER_ALARM = 10  # CloudWatch's hard limit for metric math alarms


@dataclass(frozen=True)
class Watched:
    """One metric an alarm reads: its namespace, name and the value of its one dimension."""

    alarm: str
    metric_id: str  # the metric's id in a metric math alarm ("" in a single-metric alarm)
    namespace: str
    name: str
    subject: Any  # the dimension's value: {"Ref": "HttpApi"}, {"Fn::GetAtt": ["PredictionsDLQ", "QueueName"]}, ...


def _alarms() -> dict[str, dict[str, Any]]:
    return {name: res["Properties"] for name, res in load_template().of_type("AWS::CloudWatch::Alarm").items()}


def _expression(alarm: dict[str, Any]) -> str:
    [returned] = [query for query in alarm["Metrics"] if query.get("ReturnData", True)]
    return str(returned["Expression"])


def _watched() -> list[Watched]:
    found = []
    for name, alarm in _alarms().items():
        queries = alarm.get("Metrics") or [{"Id": "", "MetricStat": {"Metric": alarm}}]
        for query in queries:
            if "MetricStat" in query:
                metric = query["MetricStat"]["Metric"]
                [dimension] = metric["Dimensions"]
                found.append(Watched(name, query["Id"], metric["Namespace"], metric["MetricName"], dimension["Value"]))
    return found


def _alarmed(namespace: str, name: str, subject: Any) -> Watched:
    """The one metric an alarm reads for this subject, checked to count in what the alarm compares."""
    found = [w for w in _watched() if (w.namespace, w.name, w.subject) == (namespace, name, subject)]
    assert len(found) == 1, f"{namespace} {name} of {subject} is read by {len(found)} alarms, not one"
    [watched] = found
    if watched.metric_id:
        assert watched.metric_id in re.findall(r"[a-z]\w*", _expression(_alarms()[watched.alarm])), watched
    return watched


def _queue_age_limit(queue: str) -> int:
    watched = _alarmed("AWS/SQS", "ApproximateAgeOfOldestMessage", {"Fn::GetAtt": [queue, "QueueName"]})
    limits = re.findall(rf"FILL\({watched.metric_id}, 0\)\s*>=\s*(\d+)", _expression(_alarms()[watched.alarm]))
    assert len(limits) == 1, f"{watched.alarm} compares the age of {queue} with no one limit"
    return int(limits[0])


def test_every_alarm_notifies_the_alarm_topic_when_it_fires_and_when_it_clears() -> None:
    for name, alarm in _alarms().items():
        assert alarm.get("AlarmActions") == alarm.get("OKActions") == [{"Ref": "AlarmTopic"}], name
        assert alarm.get("TreatMissingData") == "notBreaching", name  # no traffic is no failure


def test_every_api_function_s_failure_reaches_the_api_5xx_alarm() -> None:
    """An API function's error, timeout or throttle is a 5xx of the HTTP API it serves: one alarm for all."""
    template = load_template()
    for logical_id, resource in template.of_type("AWS::Serverless::Function").items():
        for event in resource["Properties"].get("Events", {}).values():
            if event["Type"] == "HttpApi":
                assert event["Properties"]["ApiId"] == {"Ref": "HttpApi"}, logical_id
    errors = _alarms()[_alarmed("AWS/ApiGateway", "5xx", {"Ref": "HttpApi"}).alarm]
    assert (errors["Statistic"], errors["Threshold"], errors["ComparisonOperator"]) == (
        "Sum",
        1,
        "GreaterThanOrEqualToThreshold",
    )


def test_api_latency_alarms_past_any_prefer_wait_and_before_api_gateway_gives_up() -> None:
    latency = _alarms()[_alarmed("AWS/ApiGateway", "Latency", {"Ref": "HttpApi"}).alarm]

    assert re.fullmatch(r"p\d+(\.\d+)?", latency["ExtendedStatistic"])
    assert ApiSettings.model_construct().max_wait_seconds * 1000 < latency["Threshold"] < API_GATEWAY_TIMEOUT_MS


def test_every_dead_letter_queue_and_every_queue_s_oldest_message_are_alarmed() -> None:
    queues = load_template().of_type("AWS::SQS::Queue")
    dead_letter = {
        props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for props in (queue["Properties"] for queue in queues.values())
        if "RedrivePolicy" in props
    }
    for name in dead_letter:
        watched = _alarmed("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"Fn::GetAtt": [name, "QueueName"]})
        assert _alarms()[watched.alarm]["Threshold"] == 1, name  # one parked message is one too many
    for name in queues.keys() - dead_letter:
        assert _queue_age_limit(name) > 0, name
    assert dead_letter == {"PredictionsDLQ", "WebhooksDLQ", "BatchesDLQ"}


def _throttles_seen_elsewhere(spec: FunctionSpec, api_invoked: set[str]) -> bool:
    """An API function's throttle is a 5xx (its caller's, for a function an API function invokes); a
    queue worker's shows as its queue's age when that limit is short."""
    return (
        spec.is_api
        or spec.logical_id in OPERATOR_INVOKED
        or spec.logical_id in api_invoked
        or any(_queue_age_limit(trigger.queue) <= PROMPT_QUEUE_AGE_SECONDS for trigger in spec.queue_triggers)
    )


# Invoked by an operator, who reads its failure or throttle in the answer: an alarm would page someone for it.
OPERATOR_INVOKED = {"RunAdminCommandFunction"}


def test_every_function_outside_the_api_has_its_errors_alarmed_and_its_unseen_throttles() -> None:
    specs = load_template().functions
    api_invoked = {
        resource["Fn::GetAtt"][0]
        for spec in specs
        if spec.is_api
        for statement in _statements(spec)
        if "lambda:InvokeFunction" in _actions(statement)
        for resource in (statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]])
    }
    throttle_alarmed = set()
    for spec in specs:
        if not spec.is_api and spec.logical_id not in OPERATOR_INVOKED:
            _alarmed("AWS/Lambda", "Errors", {"Ref": spec.logical_id})
        if not _throttles_seen_elsewhere(spec, api_invoked):
            _alarmed("AWS/Lambda", "Throttles", {"Ref": spec.logical_id})
            throttle_alarmed.add(spec.logical_id)

    assert api_invoked == {"InspectModelArtifactFunction"}
    assert throttle_alarmed == {"DeliverWebhooksFunction", "RelayWebhooksFunction", "SweepPredictionsFunction"}


def test_metric_math_alarms_read_each_metric_they_fetch_within_cloudwatch_s_limit() -> None:
    for name, alarm in _alarms().items():
        if "Metrics" in alarm:
            fetched = {query["Id"] for query in alarm["Metrics"] if "MetricStat" in query}
            assert all(query["ReturnData"] is False for query in alarm["Metrics"] if "MetricStat" in query), name
            assert set(re.findall(r"[a-z]\w*", _expression(alarm))) == fetched, name
            assert len(fetched) <= MAX_METRICS_PER_ALARM, name


def test_no_alarm_is_a_copy_of_another_but_for_what_it_watches() -> None:
    """One alarm per kind of failure, not one per function or queue: alarms that differ only in their
    subject belong in one metric math alarm."""

    def shape(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: "*" if k in {"Value", "AlarmDescription", "Label"} else shape(v) for k, v in value.items()}
        return [shape(item) for item in value] if isinstance(value, list) else value

    shapes = [json.dumps(shape(alarm), sort_keys=True) for alarm in _alarms().values()]
    assert len(set(shapes)) == len(shapes)


def test_every_function_logs_to_a_group_with_retention() -> None:
    template = load_template()
    assert template.raw["Globals"]["Function"]["LoggingConfig"] == {"LogGroup": {"Ref": "FunctionsLogGroup"}}
    group = template.raw["Resources"]["FunctionsLogGroup"]["Properties"]
    assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    for spec in template.functions:  # none overrides the shared log group
        assert "LoggingConfig" not in template.raw["Resources"][spec.logical_id]["Properties"], spec.logical_id


def _grants(logical_id: str) -> dict[str, set[str]]:
    """Each action a function holds, with the resources (logical ids, or Sub strings) it holds it on."""
    [spec] = [s for s in load_template().functions if s.logical_id == logical_id]
    grants: dict[str, set[str]] = {}
    for statement in _statements(spec):
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        names = {r["Fn::GetAtt"][0] if "Fn::GetAtt" in r else r["Fn::Sub"] for r in resources}
        for action in _actions(statement):
            grants.setdefault(action, set()).update(names)
    return grants


def test_the_sweeper_queues_the_recovery_of_stuck_work_and_touches_no_file() -> None:
    """It finds overdue predictions and batches in the Sweep index, counts its sweeps on their items, and
    queues the work: predictions again, webhooks, and a stuck batch's resume or expire step, which
    ProcessBatchesFunction runs with the bucket access it already has."""
    assert _grants("SweepPredictionsFunction") == {
        "dynamodb:Query": {"${Table.Arn}/index/Sweep"},
        "dynamodb:GetItem": {"Table"},
        "dynamodb:PutItem": {"Table"},
        "dynamodb:UpdateItem": {"Table"},
        "sqs:SendMessage": {"PredictionsQueue", "WebhooksQueue", "BatchesQueue"},
    }


def test_math_alarms_count_a_metric_without_data_as_zero() -> None:
    """Lambda publishes Errors only when a function runs, SQS metrics only for active queues: every metric of
    an expression is read through FILL(id, 0), so one silent metric cannot hide another's failures."""
    for name, alarm in _alarms().items():
        if "Metrics" not in alarm:
            continue
        expression = _expression(alarm)
        for query in alarm["Metrics"]:
            if "MetricStat" in query:
                identifier = query["Id"]
                bare = re.findall(rf"(?<![\w(]){identifier}\b", expression)
                assert not bare, f"{name}: {identifier} is used without FILL({identifier}, 0)"
                assert f"FILL({identifier}, 0)" in expression, name
