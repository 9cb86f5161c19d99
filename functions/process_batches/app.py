"""BatchesQueue consumer: validation steps (each queues the next) and finalization of batches."""

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from shared.queue.consumer import sqs_handler
from shared.queue.messages import BatchStep, BatchStepKind
from shared.services import batch_finalizer, batch_store, batch_validator


def process_batch_step(record: SQSRecord) -> None:
    step = BatchStep.from_body(record.body)
    if step.kind is BatchStepKind.VALIDATE:
        batch_validator().step(step.tenant, step.batch_id, step.offset, step.line)
        return
    batch_finalizer().finish(batch_store().get(step.tenant, step.batch_id))


handler = sqs_handler(process_batch_step)
