"""PredictionsQueue consumer: run each queued prediction once, micro-batched by model version; run the
chunks of batches (each chunk's lines are one micro-batch)."""

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from shared.batches.runner import ChunkJob
from shared.observability import set_correlation_id
from shared.predictions.runner import Job
from shared.queue.consumer import correlation_of, sqs_batch_handler
from shared.queue.messages import RunBatchChunk, predictions_queue_message
from shared.services import chunk_runner, prediction_runner


def run_predictions(records: list[SQSRecord]) -> list[Exception | None]:
    jobs: list[tuple[int, Job]] = []
    chunks: list[tuple[int, RunBatchChunk]] = []
    outcomes: list[Exception | None] = [None] * len(records)
    for index, record in enumerate(records):
        try:
            message = predictions_queue_message(record.body)
        except Exception as exc:  # noqa: BLE001 - a foreign message goes to the DLQ, alone
            outcomes[index] = exc
            continue
        if isinstance(message, RunBatchChunk):
            chunks.append((index, message))
        else:
            jobs.append((index, Job(message.tenant, message.prediction_id, correlation_of(record))))
    results = prediction_runner().run_many([job for _, job in jobs])
    for (index, _), result in zip(jobs, results, strict=True):
        outcomes[index] = result if isinstance(result, Exception) else None
    for index, chunk in chunks:
        set_correlation_id(correlation_of(records[index]))
        try:
            chunk_runner().run(
                ChunkJob(chunk.tenant, chunk.batch_id, chunk.chunk, chunk.first_line, chunk.start, chunk.end)
            )
        except Exception as exc:  # noqa: BLE001 - this chunk's fault, reported for its own redelivery
            outcomes[index] = exc
    return outcomes


handler = sqs_batch_handler(run_predictions)
