"""The AWS calls of one async prediction, counted on the real handlers against a budget (issue 7's guard).

Through the API (gateway routing, key auth, rate limit) on moto: create, the worker's run, one poll; with
webhooks, a cancel, an idempotent replay. Then the stores' status changes: a store answers from what its
caller holds and from what DynamoDB returns with a lost condition, so a status change reads nothing.
Counted at botocore's client level with ``bench.aws_calls.counting``, the counter the benchmarks use.
"""

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any, Protocol, TypeVar

import boto3
import pytest

from bench.aws_calls import billable, counting
from shared.batches.models import Batch, BatchStatus, BatchTransition, BatchTransitionRejectedError
from shared.kernel.clock import to_rfc3339, utc_now
from shared.kernel.outbox import EventType, PlannedDelivery
from shared.kernel.transitions import StatusTransition, TransitionStore
from shared.predictions.models import Prediction, PredictionStatus, Transition, TransitionRejectedError
from shared.wiring import batch_store, prediction_store
from tests.conftest import Credential
from tests.support.events import response_json
from tests.support.gateway import call
from tests.support.resources import EXPIRES_AT, a_batch, a_prediction
from tools.lambda_runtime import invoke_function
from tools.provision import Stack
from tools.sqs_events import lambda_event

# Without webhook: the prediction item, then processing, then the result. No S3 for small outputs.
WRITES_PER_PREDICTION = 3
READS_PER_PREDICTION = 2  # the worker's GetItem of the prediction, the poll's GetItem; API keys apart
# With both webhook events: the item, then two transactions of the status update and its delivery (each
# item billed twice). Reads as without: the transactions' results are not read back (they were: 4).
WRITES_PER_PREDICTION_WITH_WEBHOOKS = 1 + 2 * 2 + 2 * 2
READS_PER_PREDICTION_WITH_WEBHOOKS = 2
READS_PER_CANCEL_WITH_WEBHOOK = 1  # the prediction, to see whether it is finished (was 2: one more after)
READS_PER_IDEMPOTENT_REPLAY = 1  # the original (was 2: the claim was read first)
RATE_LIMIT_WRITES_PER_REQUEST = 2  # an idle key of an idle tenant: one conditional update per limit
WEBHOOK = "https://example.com/hook"

Calls = Counter[tuple[str, str]]
T = TypeVar("T")
C = TypeVar("C", bound=StatusTransition[Any, Any], contravariant=True)


@pytest.fixture
def no_rate_limits(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rate limiting is counted on its own (last test); set over the stack's function environment."""
    monkeypatch.setenv("RATE_LIMIT_PER_SECOND", "0")
    monkeypatch.setenv("TENANT_RATE_LIMIT_PER_SECOND", "0")


def _lifecycle(stack: Stack, admin: Credential, **fields: Any) -> tuple[Calls, Calls, Calls]:
    headers = {"authorization": f"Bearer {admin.secret}"}
    with counting() as create:
        created = call(
            "POST",
            "/v1/predictions",
            body={"model": "sentiment", "input": {"text": "Good!"}, **fields},
            headers=headers,
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


@pytest.mark.usefixtures("no_rate_limits")
def test_an_async_prediction_stays_within_its_aws_call_budget(stack: Stack, admin: Credential) -> None:
    create, run, poll = _lifecycle(stack, admin)

    total = billable(create + run + poll)
    api_key_reads = 2  # one authentication per API request
    assert total["dynamodb:write"] <= WRITES_PER_PREDICTION, create + run + poll
    assert total["dynamodb:read"] - api_key_reads <= READS_PER_PREDICTION, create + run + poll
    assert total["s3:put"] + total["s3:get"] == 0  # the output is stored inline
    assert create[("sqs", "SendMessage")] == 1
    assert sum(count for (service, _), count in (create + run + poll).items() if service == "sqs") == 1


@pytest.mark.usefixtures("no_rate_limits")
def test_a_prediction_with_both_webhook_events_reads_no_more_than_one_without(stack: Stack, admin: Credential) -> None:
    create, run, poll = _lifecycle(stack, admin, webhook=WEBHOOK, webhook_events_filter=["start", "completed"])

    total = billable(create + run + poll)
    api_key_reads = 2
    assert total["dynamodb:write"] == WRITES_PER_PREDICTION_WITH_WEBHOOKS, create + run + poll
    assert total["dynamodb:read"] - api_key_reads == READS_PER_PREDICTION_WITH_WEBHOOKS, create + run + poll
    assert run[("sqs", "SendMessage")] == 2  # the two deliveries, handed to the delivery worker


@pytest.mark.usefixtures("no_rate_limits")
def test_a_cancel_with_a_webhook_reads_the_prediction_once(admin: Credential) -> None:
    headers = {"authorization": f"Bearer {admin.secret}"}
    body = {"model": "sentiment", "input": {"text": "Good!"}, "webhook": WEBHOOK}
    created = response_json(call("POST", "/v1/predictions", body=body, headers=headers))

    with counting() as cancel:
        canceled = call("POST", f"/v1/predictions/{created['id']}/cancel", headers=headers)

    assert response_json(canceled)["status"] == "canceled"
    assert billable(cancel)["dynamodb:read"] - 1 == READS_PER_CANCEL_WITH_WEBHOOK, cancel  # API key apart
    assert cancel[("dynamodb", "TransactWriteItems (per item, x2)")] == 4, cancel


@pytest.mark.usefixtures("no_rate_limits")
def test_an_idempotent_replay_reads_only_the_original(admin: Credential) -> None:
    headers = {"authorization": f"Bearer {admin.secret}", "idempotency-key": "order-42"}
    body = {"model": "sentiment", "input": {"text": "Good!"}}
    first = response_json(call("POST", "/v1/predictions", body=body, headers=headers))

    with counting() as replay:
        again = call("POST", "/v1/predictions", body=body, headers=headers)

    assert response_json(again)["id"] == first["id"]
    assert billable(replay)["dynamodb:read"] - 1 == READS_PER_IDEMPOTENT_REPLAY, replay  # API key apart
    assert replay[("sqs", "SendMessage")] == 0


def _now() -> str:
    return to_rfc3339(utc_now())


def _hook(event: EventType) -> tuple[PlannedDelivery, ...]:
    return (PlannedDelivery("dlv_1", event, WEBHOOK, EXPIRES_AT),)


def _prediction_change(status: PredictionStatus, webhook: bool, **fields: Any) -> Callable[[Prediction], Any]:
    deliveries = _hook(EventType.PREDICTION_COMPLETED) if webhook else ()
    return lambda held: prediction_store().transition(held, Transition(status, _now(), deliveries=deliveries, **fields))


def _batch_failed(webhook: bool) -> Callable[[Batch], Any]:
    deliveries = _hook(EventType.BATCH_COMPLETED) if webhook else ()
    change = BatchTransition(BatchStatus.FAILED, _now(), expected=BatchStatus.VALIDATING, deliveries=deliveries)
    return lambda held: batch_store().transition(held, change)


class _Store(TransitionStore[T, C], Protocol):
    def create(self, subject: T, /) -> None: ...


def _created(store: _Store[T, C], held: T, changes: Iterable[C]) -> T:
    """``held`` stored, then moved through ``changes``: the caller's copy as the store answered."""
    store.create(held)
    for change in changes:
        held = store.transition(held, change)
    return held


def _created_prediction(*then: PredictionStatus) -> Prediction:
    held = a_prediction(input={"n": 1}, webhook=WEBHOOK)
    return _created(prediction_store(), held, [Transition(status, _now()) for status in then])


def _created_batch(*then: BatchStatus) -> Batch:
    return _created(batch_store(), a_batch(webhook=WEBHOOK), [BatchTransition(status, _now()) for status in then])


def _stale(held: Prediction) -> Prediction:
    """The caller's copy from before the prediction was canceled behind its back."""
    return replace(held, status=PredictionStatus.STARTING, completed_at=None)


# Setup (the caller's copy), the change, the error it must end with (None: it is written), and in a comment
# what the store read before it answered from that copy and from what DynamoDB returns with a lost
# condition: the item again after a transaction, the item for its expiry before writing a large output,
# the item after a lost condition.
STATUS_CHANGES: dict[str, tuple[Callable[[], Any], Callable[[Any], Any], type[Exception] | None]] = {
    "prediction with its webhook": (  # read 1
        _created_prediction,
        _prediction_change(PredictionStatus.CANCELED, webhook=True),
        None,
    ),
    "prediction with a large output": (  # read 2
        lambda: _created_prediction(PredictionStatus.PROCESSING),
        _prediction_change(PredictionStatus.SUCCEEDED, webhook=False, output={"blob": "y" * 200_000}),
        None,
    ),
    "prediction lost": (  # read 1
        lambda: _stale(_created_prediction(PredictionStatus.CANCELED)),
        _prediction_change(PredictionStatus.FAILED, webhook=False),
        TransitionRejectedError,
    ),
    "prediction with its webhook lost": (  # read 1
        lambda: _stale(_created_prediction(PredictionStatus.CANCELED)),
        _prediction_change(PredictionStatus.FAILED, webhook=True),
        TransitionRejectedError,
    ),
    "batch final with its webhook": (_created_batch, _batch_failed(webhook=True), None),  # read 1
    "batch lost": (  # read 1
        lambda: replace(_created_batch(BatchStatus.CANCELING), status=BatchStatus.VALIDATING),
        _batch_failed(webhook=False),
        BatchTransitionRejectedError,
    ),
    "batch with its webhook lost": (  # read 1
        lambda: replace(_created_batch(BatchStatus.CANCELING), status=BatchStatus.VALIDATING),
        _batch_failed(webhook=True),
        BatchTransitionRejectedError,
    ),
}


@pytest.mark.parametrize("name", list(STATUS_CHANGES))
def test_a_status_change_reads_nothing_back(stack: Stack, name: str) -> None:
    setup, change, rejected = STATUS_CHANGES[name]
    held = setup()

    with counting() as calls:
        if rejected is None:
            change(held)
        else:
            with pytest.raises(rejected):
                change(held)

    assert billable(calls)["dynamodb:read"] == 0, calls
    assert billable(calls)["dynamodb:write"] > 0, calls


def test_rate_limiting_costs_one_write_per_limit_per_request_of_an_idle_key(stack: Stack, admin: Credential) -> None:
    create, _, poll = _lifecycle(stack, admin)

    assert billable(create)["dynamodb:write"] == 1 + RATE_LIMIT_WRITES_PER_REQUEST
    assert billable(poll)["dynamodb:write"] == RATE_LIMIT_WRITES_PER_REQUEST
