"""Idempotency-Key on POST /v1/predictions, on DynamoDB: one prediction per key, even under concurrency."""

import os
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, cast

import boto3
import pytest

from shared.adapters.sqs import SqsPredictionQueue
from shared.kernel.errors import TransientError
from shared.kernel.idempotency import IdempotencyClaim
from shared.wiring import prediction_store
from tests.conftest import Credential
from tests.support.events import bearer, response_json
from tests.support.gateway import call
from tools.provision import Stack

BODY = {"model": "echo", "input": {"order": 42}}


def _create(admin: Credential, key: str, body: dict[str, Any] = BODY) -> dict[str, Any]:
    return call("POST", "/v1/predictions", body=body, headers={**bearer(admin.secret), "idempotency-key": key})


def _stored_predictions() -> int:
    items = boto3.client("dynamodb").scan(TableName=os.environ["TABLE_NAME"])["Items"]
    return sum(1 for item in items if item["SK"]["S"].startswith("PRED#"))


def test_a_retry_with_the_same_key_returns_the_same_prediction(admin: Credential, stack: Stack) -> None:
    first, retry = _create(admin, "order-42"), _create(admin, "order-42")

    assert (first["statusCode"], retry["statusCode"]) == (201, 201)
    assert response_json(retry)["id"] == response_json(first)["id"]
    assert _stored_predictions() == 1
    queued = boto3.client("sqs").receive_message(QueueUrl=stack.refs["PredictionsQueue"], MaxNumberOfMessages=10)
    assert len(queued["Messages"]) == 1


def test_the_same_key_with_another_body_is_409_and_creates_nothing(admin: Credential) -> None:
    _create(admin, "order-42")

    conflict = _create(admin, "order-42", {"model": "echo", "input": {"order": 43}})

    assert conflict["statusCode"] == 409
    assert response_json(conflict)["type"] == "urn:infergate:problem:conflict"
    assert _stored_predictions() == 1


def test_a_duplicate_writes_nothing_not_even_its_own_prediction_item(admin: Credential) -> None:
    """The claim and the prediction are one transaction: a racing duplicate that loses leaves no trace."""
    first = response_json(_create(admin, "burst"))

    for _ in range(3):
        assert response_json(_create(admin, "burst"))["id"] == first["id"]

    assert _stored_predictions() == 1


def test_malformed_keys_are_refused(admin: Credential) -> None:
    for key in ("", "x" * 256, "has space"):
        response = _create(admin, key)
        assert response["statusCode"] == 400, key
    assert _stored_predictions() == 0


def test_a_key_older_than_24_hours_starts_a_new_prediction(admin: Credential) -> None:
    first = response_json(_create(admin, "order-7"))
    claims = [
        i
        for i in boto3.client("dynamodb").scan(TableName=os.environ["TABLE_NAME"])["Items"]
        if i["SK"]["S"].startswith("IDEM#")
    ]
    [claim] = claims
    boto3.client("dynamodb").update_item(  # as if 24 h had passed and TTL had not removed it yet
        TableName=os.environ["TABLE_NAME"],
        Key={"PK": claim["PK"], "SK": claim["SK"]},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"N": "1"}},
    )

    later = response_json(_create(admin, "order-7", {"model": "echo", "input": {"order": 7}}))

    assert later["id"] != first["id"]
    assert _stored_predictions() == 2
    assert "order-7" not in str(claims)  # only a hash of the key is stored


def _lose_first_response(operation: str) -> Any:
    """Make botocore resend ``operation`` once after it succeeded, as when its response is lost in transit."""
    from shared.adapters.clients import dynamodb_client

    client = dynamodb_client()
    resent = {"count": 0}

    def retry_once(response: Any = None, **_: Any) -> int | None:
        if response is not None and response[0].status_code == 200 and resent["count"] == 0:
            resent["count"] += 1
            return 0  # retry now
        return None

    client.meta.events.register(
        f"needs-retry.dynamodb.{operation}", cast(Any, retry_once), unique_id="lose-first-response"
    )
    return resent


def test_a_create_the_sdk_resent_after_a_lost_response_is_one_queued_prediction(
    admin: Credential, stack: Stack
) -> None:
    resent = _lose_first_response("PutItem")

    response = call("POST", "/v1/predictions", body=BODY, headers=bearer(admin.secret))

    assert resent["count"] == 1  # the write really was sent twice
    assert response["statusCode"] == 201, response_json(response)
    assert _stored_predictions() == 1
    queued = boto3.client("sqs").receive_message(QueueUrl=stack.refs["PredictionsQueue"], MaxNumberOfMessages=10)
    assert [m["Body"] for m in queued["Messages"]] == [
        f'{{"tenant": "acme", "prediction_id": "{response_json(response)["id"]}"}}'
    ]


def test_an_idempotent_create_the_sdk_resent_is_one_queued_prediction(admin: Credential, stack: Stack) -> None:
    resent = _lose_first_response("TransactWriteItems")

    response = _create(admin, "order-7")
    retry = _create(admin, "order-7")

    assert resent["count"] == 1
    assert (response["statusCode"], retry["statusCode"]) == (201, 201)
    assert response_json(retry)["id"] == response_json(response)["id"]
    assert _stored_predictions() == 1
    queued = boto3.client("sqs").receive_message(QueueUrl=stack.refs["PredictionsQueue"], MaxNumberOfMessages=10)
    assert len(queued["Messages"]) == 1  # queued by the first call, not again by the replay


def test_a_retry_after_the_queue_refused_the_create_makes_a_new_prediction_that_runs(
    admin: Credential, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The refused create is failed and answered 503; its key is freed, so the client's retry with the
    same key creates anew instead of replaying the failed prediction for 24 hours."""
    send = SqsPredictionQueue.enqueue

    def queue_down(self: SqsPredictionQueue, tenant: str, prediction_id: str, correlation: str | None) -> None:
        raise TransientError("the predictions queue is unavailable")

    monkeypatch.setattr(SqsPredictionQueue, "enqueue", queue_down)
    refused = _create(admin, "order-7")
    monkeypatch.setattr(SqsPredictionQueue, "enqueue", send)
    retried, replayed = _create(admin, "order-7"), _create(admin, "order-7")

    assert (refused["statusCode"], retried["statusCode"], replayed["statusCode"]) == (503, 201, 201)
    assert response_json(retried)["status"] == "starting"
    assert response_json(replayed)["id"] == response_json(retried)["id"]
    statuses = {
        item["SK"]["S"]: item["status"]["S"]
        for item in boto3.client("dynamodb").scan(TableName=os.environ["TABLE_NAME"])["Items"]
        if item["SK"]["S"].startswith("PRED#")
    }
    assert sorted(statuses.values()) == ["failed", "starting"]  # the refused one stays, failed
    queued = boto3.client("sqs").receive_message(QueueUrl=stack.refs["PredictionsQueue"], MaxNumberOfMessages=10)
    assert len(queued["Messages"]) == 1


def test_releasing_a_claim_that_names_another_prediction_changes_nothing(admin: Credential) -> None:
    first = response_json(_create(admin, "held"))
    claim = IdempotencyClaim.of("held", {}, datetime.now(UTC))
    assert claim is not None
    other = replace(prediction_store().get(admin.tenant, first["id"]), id="pred_01JD5YB4W3ZV0B4S8FZ7Q6N9ZZ")

    prediction_store().release(other, claim)  # not the claim's prediction: a lost condition, no error

    assert response_json(_create(admin, "held"))["id"] == first["id"]  # still held by the first
