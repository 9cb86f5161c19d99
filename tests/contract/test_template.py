"""Invariants of template.yaml that keep the deployment safe.

Functions are checked as SAM deploys them (``tools.template`` reads the translated template): each
one's execution role holds the statements of its ``Policies`` and the managed policies SAM adds.
"""

from typing import Any

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


RATE_LIMIT_POLICY = {"Ref": "RateLimitPolicy"}
OPEN_FUNCTIONS = {"GetHealthFunction", "GetServerLiveFunction", "GetServerReadyFunction", "RouteNotFoundFunction"}
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


def test_every_queue_with_a_consumer_has_a_dlq_and_enough_visibility() -> None:
    template = load_template()
    queues = template.of_type("AWS::SQS::Queue")
    for spec in template.functions:
        for trigger in spec.queue_triggers:
            props = queues[trigger.queue]["Properties"]
            assert props["RedrivePolicy"]["maxReceiveCount"] >= 5
            assert props["VisibilityTimeout"] >= 6 * spec.timeout
            assert trigger.reports_item_failures


def test_api_functions_end_before_api_gateway_does() -> None:
    for spec in load_template().functions:
        if spec.routes or spec.default_route:
            assert spec.timeout < 30, spec.logical_id


# The only '*' a resource may hold: the Outbox index, and the two key prefixes of the bucket (S3 object ARNs).
_SCOPED_RESOURCES = (
    "${Table.Arn}/index/Outbox",
    "${ArtifactsBucket.Arn}/uploads/*",
    "${ArtifactsBucket.Arn}/artifacts/*",
    "${ArtifactsBucket.Arn}/batches/*",
)


def test_no_wildcards_in_policies() -> None:
    for spec in load_template().functions:
        for statement in _statements(spec):
            assert all("*" not in action for action in _actions(statement)), spec.logical_id
            resource = str(statement["Resource"])
            for scoped in _SCOPED_RESOURCES:
                resource = resource.replace(scoped, "")
            assert "*" not in resource, spec.logical_id


def test_functions_hold_only_the_aws_managed_policies_sam_adds() -> None:
    """Logs for every function; SQS receive and delete (on any queue: AWS's policy) for queue consumers only."""
    for spec in load_template().functions:
        aws_managed = [policy for policy in spec.managed_policy_arns if isinstance(policy, str)]
        expected = [LOGS_POLICY, SQS_POLLER_POLICY] if spec.queue_triggers else [LOGS_POLICY]
        assert aws_managed == expected, spec.logical_id


def test_read_only_functions_have_read_only_access() -> None:
    """Read-only functions read; their only write is their caller's rate-limit item (RateLimitPolicy)."""
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


MODEL_FUNCTIONS = {"RunPredictionsFunction", "PredictModelFunction", "InspectModelArtifactFunction"}


def test_only_inference_functions_carry_the_models_layer() -> None:
    template = load_template()
    for logical_id, resource in template.of_type("AWS::Serverless::Function").items():
        layers = resource["Properties"].get("Layers", [])
        has_models = {"Ref": "ModelsLayer"} in layers
        assert has_models == (logical_id in MODEL_FUNCTIONS), logical_id
    assert {"Ref": "ModelsLayer"} not in template.raw["Globals"]["Function"]["Layers"]


def test_the_local_only_webhook_setting_is_never_deployed() -> None:
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")

    assert "WEBHOOKS_ALLOW_INSECURE" not in text
    assert "WEBHOOK_RETRY_SCALE" not in text


def test_every_authenticated_function_is_rate_limited_and_may_write_only_rate_items() -> None:
    template = load_template()
    for spec in template.functions:
        if spec.routes and spec.logical_id not in OPEN_FUNCTIONS:
            assert RATE_LIMIT_POLICY in spec.managed_policy_arns, spec.logical_id
    [statement] = template.raw["Resources"]["RateLimitPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "dynamodb:UpdateItem"
    assert statement["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["RATE#*"]}}
    assert template.raw["Globals"]["Function"]["Environment"]["Variables"]["RATE_LIMIT_PER_SECOND"] == {
        "Ref": "RateLimitPerSecond"
    }


def test_tenants_have_a_rate_limit_and_a_cap_on_active_keys_set_by_parameters() -> None:
    """Per-tenant limits reach every function (the auth dependency checks them); the key cap reaches the
    function that creates keys; both default to on, the rate to a share of the stage's throttle."""
    template = load_template()
    parameters = template.raw["Parameters"]
    variables = template.raw["Globals"]["Function"]["Environment"]["Variables"]
    stage = template.raw["Resources"]["HttpApi"]["Properties"]["DefaultRouteSettings"]

    assert variables["TENANT_RATE_LIMIT_PER_SECOND"] == {"Ref": "TenantRateLimitPerSecond"}
    assert variables["TENANT_RATE_LIMIT_BURST"] == {"Ref": "TenantRateLimitBurst"}
    assert 0 < parameters["TenantRateLimitPerSecond"]["Default"] < stage["ThrottlingRateLimit"]
    assert 0 < parameters["TenantRateLimitBurst"]["Default"] < stage["ThrottlingBurstLimit"]
    [create_key] = [spec for spec in template.functions if spec.logical_id == "CreateKeyFunction"]
    assert create_key.environment["MAX_KEYS_PER_TENANT"] == {"Ref": "MaxKeysPerTenant"}
    assert 100 <= parameters["MaxKeysPerTenant"]["Default"] <= 500


def _alarms(template: Any) -> list[dict[str, Any]]:
    return [resource["Properties"] for resource in template.of_type("AWS::CloudWatch::Alarm").values()]


def _watched(alarm: dict[str, Any]) -> Any:
    [dimension] = alarm["Dimensions"]
    return dimension["Value"]


def test_every_function_has_an_errors_and_a_throttles_alarm() -> None:
    template = load_template()
    alarms = _alarms(template)
    for spec in template.functions:
        for metric in ("Errors", "Throttles"):
            found = [
                a
                for a in alarms
                if (a["Namespace"], a["MetricName"]) == ("AWS/Lambda", metric)
                and _watched(a) == {"Ref": spec.logical_id}
            ]
            assert len(found) == 1, f"{spec.logical_id} needs one {metric} alarm"
            assert found[0]["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_every_dead_letter_queue_depth_and_every_queue_age_is_alarmed() -> None:
    template = load_template()
    alarms = _alarms(template)
    queues = template.of_type("AWS::SQS::Queue")
    dead_letter = {
        props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for props in (q["Properties"] for q in queues.values())
        if "RedrivePolicy" in props
    }
    for name in queues:
        metric = "ApproximateNumberOfMessagesVisible" if name in dead_letter else "ApproximateAgeOfOldestMessage"
        found = [a for a in alarms if a["MetricName"] == metric and _watched(a) == {"Fn::GetAtt": [name, "QueueName"]}]
        assert len(found) == 1, f"{name} needs an alarm on {metric}"
    assert dead_letter == {"PredictionsDLQ", "WebhooksDLQ", "BatchesDLQ"}


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
