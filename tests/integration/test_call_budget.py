"""The AWS calls of one async prediction, counted on the real handlers against a budget (issue 7's guard).

Through the API (gateway routing, key auth, rate limit) on moto: create, the worker's run, one poll.
Counted at botocore's client level with ``bench.aws_calls.counting``, the counter the benchmarks use.
"""

from collections import Counter

import boto3
import pytest

from bench.aws_calls import billable, counting
from tests.conftest import Credential
from tests.support.events import response_json
from tests.support.gateway import call
from tools.lambda_runtime import invoke_function
from tools.provision import Stack
from tools.sqs_events import lambda_event

# Without webhook: the prediction item, then processing, then the result. No S3 for small outputs.
WRITES_PER_PREDICTION = 3
READS_PER_PREDICTION = 3  # the worker's GetItem of the prediction, the poll's GetItem; API keys apart
RATE_LIMIT_WRITES_PER_REQUEST = 2  # an idle key of an idle tenant: one conditional update per limit


def _lifecycle(stack: Stack, admin: Credential) -> tuple[Counter[tuple[str, str]], ...]:
    headers = {"authorization": f"Bearer {admin.secret}"}
    with counting() as create:
        created = call(
            "POST", "/v1/predictions", body={"model": "sentiment", "input": {"text": "Good!"}}, headers=headers
        )
    assert created["statusCode"] == 201, created
    queue = stack.refs["PredictionsQueue"]
    [message] = boto3.client("sqs").receive_message(QueueUrl=queue, MessageAttributeNames=["All"])["Messages"]
    with counting() as run:
        result = invoke_function(
            "RunPredictionsFunction", lambda_event([dict(message)], stack.arns["PredictionsQueue"], "us-east-1")
        )
    assert result == {"batchItemFailures": []}
    with counting() as poll:
        got = call("GET", f"/v1/predictions/{response_json(created)['id']}", headers=headers)
    assert response_json(got)["status"] == "succeeded"
    return create, run, poll


def test_an_async_prediction_stays_within_its_aws_call_budget(
    stack: Stack, admin: Credential, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RATE_LIMIT_PER_SECOND", "0")  # rate limiting is counted on its own below
    monkeypatch.setenv("TENANT_RATE_LIMIT_PER_SECOND", "0")

    create, run, poll = _lifecycle(stack, admin)

    total = billable(create + run + poll)
    api_key_reads = 2  # one authentication per API request
    assert total["dynamodb:write"] <= WRITES_PER_PREDICTION, create + run + poll
    assert total["dynamodb:read"] - api_key_reads <= READS_PER_PREDICTION, create + run + poll
    assert total["s3:put"] + total["s3:get"] == 0  # the output is stored inline
    assert create[("sqs", "SendMessage")] == 1
    assert sum(count for (service, _), count in (create + run + poll).items() if service == "sqs") == 1


def test_rate_limiting_costs_one_write_per_limit_per_request_of_an_idle_key(stack: Stack, admin: Credential) -> None:
    create, _, poll = _lifecycle(stack, admin)

    assert billable(create)["dynamodb:write"] == 1 + RATE_LIMIT_WRITES_PER_REQUEST
    assert billable(poll)["dynamodb:write"] == RATE_LIMIT_WRITES_PER_REQUEST
