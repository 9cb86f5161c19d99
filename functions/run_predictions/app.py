"""PredictionsQueue consumer: run each queued prediction once; report failures per record."""

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from shared.queue.consumer import sqs_handler
from shared.queue.messages import RunPrediction
from shared.services import prediction_runner


def run_prediction(record: SQSRecord) -> None:
    message = RunPrediction.from_body(record.body)
    prediction_runner().run(message.tenant, message.prediction_id)


handler = sqs_handler(run_prediction)
