"""BatchesQueue consumer: validation steps (each queues the next), finalization of batches, and the
sweeper's resume and expire steps for stuck ones."""

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from shared.kernel.messages import BATCHES_QUEUE, BatchStepKind
from shared.queue.consumer import sqs_handler
from shared.wiring import batch_finalizer, batch_recovery, batch_store, batch_validator


def process_batch_step(record: SQSRecord) -> None:
    step = BATCHES_QUEUE.read(record.body)
    match step.kind:
        case BatchStepKind.VALIDATE:
            batch_validator().step(step.tenant, step.batch_id, step.offset, step.line)
        case BatchStepKind.FINALIZE:
            batch_finalizer().finish(batch_store().get(step.tenant, step.batch_id))
        case BatchStepKind.RESUME:
            batch_recovery().resume(step.tenant, step.batch_id)
        case BatchStepKind.EXPIRE:
            batch_recovery().expire(step.tenant, step.batch_id)


handler = sqs_handler(process_batch_step)
