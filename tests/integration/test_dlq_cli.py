"""tools.dlq: what the dead-letter queues hold, and redriving parked predictions into a finished run."""

import boto3
import pytest

from shared.kernel.messages import BATCHES_QUEUE, BatchStep, BatchStepKind
from shared.predictions.models import PredictionStatus
from shared.predictions.service import NewPrediction
from shared.wiring import prediction_service, prediction_store
from tools.dlq import QUEUES, main, move_back, show
from tools.lambda_runtime import invoke_function
from tools.provision import Stack
from tools.sqs_events import lambda_event

BATCH_ID = "bat_01JD5YB4W3ZV0B4S8FZ7Q6N9AA"


def _resources(stack: Stack) -> dict[str, str]:
    return {**{name: stack.refs[name] for pair in QUEUES.values() for name in pair}, "Table": stack.refs["Table"]}


def test_show_lists_parked_predictions_without_consuming_them_and_redrive_finishes_them(stack: Stack) -> None:
    sqs = boto3.client("sqs")
    prediction_id = prediction_service().create("acme", NewPrediction("echo", {"n": 1}), "req-dlq").id
    queued = sqs.receive_message(QueueUrl=stack.refs["PredictionsQueue"], MaxNumberOfMessages=10)["Messages"]
    for message in queued:  # what SQS does after the last failed receive
        sqs.send_message(QueueUrl=stack.refs["PredictionsDLQ"], MessageBody=message["Body"])
        sqs.delete_message(QueueUrl=stack.refs["PredictionsQueue"], ReceiptHandle=message["ReceiptHandle"])
    resources = _resources(stack)

    listed = show(sqs, resources)
    listed_again = show(sqs, resources)
    moved = move_back(sqs, resources, "predictions")
    messages = sqs.receive_message(QueueUrl=stack.refs["PredictionsQueue"], MaxNumberOfMessages=10)["Messages"]
    result = invoke_function(
        "RunPredictionsFunction", lambda_event([dict(m) for m in messages], stack.arns["PredictionsQueue"], "us-east-1")
    )

    assert [(e["queue"], e["body"]) for e in listed] == [
        ("predictions", {"tenant": "acme", "prediction_id": prediction_id})
    ]
    assert [e["message_id"] for e in listed_again] == [e["message_id"] for e in listed]  # peeking consumed nothing
    assert moved == 1
    assert show(sqs, resources) == []
    assert result == {"batchItemFailures": []}
    assert prediction_store().get("acme", prediction_id).status is PredictionStatus.SUCCEEDED


def test_a_parked_batch_step_is_shown_and_redriven_to_the_batches_queue(stack: Stack) -> None:
    sqs = boto3.client("sqs")
    body = BATCHES_QUEUE.write(BatchStep(kind=BatchStepKind.FINALIZE, tenant="acme", batch_id=BATCH_ID))
    sqs.send_message(QueueUrl=stack.refs["BatchesDLQ"], MessageBody=body)
    resources = _resources(stack)

    listed = show(sqs, resources)
    moved = move_back(sqs, resources, "batches")
    back = sqs.receive_message(QueueUrl=stack.refs["BatchesQueue"], MaxNumberOfMessages=10)["Messages"]

    assert [(e["queue"], e["body"]["batch_id"]) for e in listed] == [("batches", BATCH_ID)]
    assert moved == 1
    assert [m["Body"] for m in back] == [body]
    assert show(sqs, resources) == []


def test_the_cli_needs_to_be_told_where(stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show"]) == 2
    assert "--stack-name or --local" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["redrive", "nothing", "--local"])
