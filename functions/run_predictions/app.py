"""PredictionsQueue consumer: run each queued prediction once, micro-batched by model version; run the
chunks of batches (each chunk's lines are one micro-batch).

Each model call is limited in time, and work is started only while the invocation has room for a whole
call: the messages of work not started go back to the queue at once (visibility 0) instead of waiting
for their visibility timeout behind a slow model. So do those of predictions stopped by the limit together
with others (their next delivery runs each alone) and of a chunk whose lines are still running one at a time.
"""

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.kernel.messages import PREDICTIONS_QUEUE, RunBatchChunk
from shared.kernel.observability import set_correlation_id
from shared.predictions.runner import Job, RunOutcome
from shared.queue.consumer import ReturnedError, correlation_of, sqs_batch_handler
from shared.wiring import chunk_runner, prediction_runner, predictions_queue, worker_budget

NOT_STARTED = "too little time left to start it"


def run_predictions(records: list[SQSRecord], context: LambdaContext) -> list[Exception | None]:
    budget = worker_budget(lambda: context.get_remaining_time_in_millis() / 1000)
    jobs: list[tuple[int, Job]] = []
    chunks: list[tuple[int, RunBatchChunk]] = []
    outcomes: list[Exception | None] = [None] * len(records)
    for index, record in enumerate(records):
        try:
            message = PREDICTIONS_QUEUE.read(record.body)
        except Exception as exc:  # noqa: BLE001 - a foreign message goes to the DLQ, alone
            outcomes[index] = exc
            continue
        if isinstance(message, RunBatchChunk):
            chunks.append((index, message))
        else:
            jobs.append((index, Job(message.tenant, message.prediction_id, correlation_of(record))))
    results = prediction_runner().run_many([job for _, job in jobs], budget)
    for (index, _), result in zip(jobs, results, strict=True):
        if result is RunOutcome.DEFERRED:
            outcomes[index] = ReturnedError(NOT_STARTED)
        elif result is RunOutcome.STOPPED_WITH_OTHERS:
            outcomes[index] = ReturnedError("stopped at the time limit with other inputs; to run alone")
        elif isinstance(result, Exception):
            outcomes[index] = result
    for index, chunk in chunks:
        set_correlation_id(correlation_of(records[index]))
        if not budget.allows_a_call():
            outcomes[index] = ReturnedError(NOT_STARTED)
            continue
        try:
            done = chunk_runner().run(chunk, budget)
            if not done:
                outcomes[index] = ReturnedError("lines left to run one at a time")
        except Exception as exc:  # noqa: BLE001 - this chunk's fault, reported for its own redelivery
            outcomes[index] = exc
    return outcomes


handler = sqs_batch_handler(run_predictions, release=lambda handles: predictions_queue().release(handles))
