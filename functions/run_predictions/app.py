"""PredictionsQueue consumer: run each queued prediction once, micro-batched by model version."""

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from shared.predictions.runner import Job
from shared.queue.consumer import correlation_of, sqs_batch_handler
from shared.queue.messages import RunPrediction
from shared.services import prediction_runner


def run_predictions(records: list[SQSRecord]) -> list[Exception | None]:
    jobs: list[tuple[int, Job]] = []
    outcomes: list[Exception | None] = [None] * len(records)
    for index, record in enumerate(records):
        try:
            message = RunPrediction.from_body(record.body)
        except Exception as exc:  # noqa: BLE001 - a foreign message goes to the DLQ, alone
            outcomes[index] = exc
            continue
        jobs.append((index, Job(message.tenant, message.prediction_id, correlation_of(record))))
    results = prediction_runner().run_many([job for _, job in jobs])
    for (index, _), result in zip(jobs, results, strict=True):
        outcomes[index] = result if isinstance(result, Exception) else None
    return outcomes


handler = sqs_batch_handler(run_predictions)
