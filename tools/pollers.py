"""Queue pollers: the local stand-in for Lambda's SQS event source mapping.

Each poller receives up to ``BatchSize`` messages, invokes the function with a real SQS-shaped event,
and deletes the messages that succeeded. Failed items (``batchItemFailures``) and messages of an
invocation that raised stay in the queue and come back after the visibility timeout, as on AWS.
"""

import logging
import threading
from typing import TYPE_CHECKING, Any

from tools.aws_identity import as_function
from tools.lambda_runtime import context_for, load_handler
from tools.sqs_events import lambda_event
from tools.template import FunctionSpec, QueueTrigger

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

log = logging.getLogger("infergate.local.pollers")
IDLE_SECONDS = (0.05, 1.0)  # pause after an empty receive: doubling from the first to the second


class QueuePoller(threading.Thread):
    def __init__(
        self,
        spec: FunctionSpec,
        trigger: QueueTrigger,
        queue_url: str,
        queue_arn: str,
        client: "SQSClient",
        number: int = 0,
    ) -> None:
        super().__init__(name=f"poller-{spec.logical_id}-{number}", daemon=True)
        self._spec = spec
        self._trigger = trigger
        self._queue_url = queue_url
        self._queue_arn = queue_arn
        self._client = client
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        # Lambda's event source mapping reads and deletes the messages with the function's own role.
        with as_function(self._spec.logical_id):
            self._poll_until_stopped()

    def _poll_until_stopped(self) -> None:
        handler = load_handler(self._spec)
        idle = IDLE_SECONDS[0]
        while not self._stopping.is_set():
            try:
                if self.poll_once(handler):
                    idle = IDLE_SECONDS[0]
                else:  # an empty queue: back off, so an idle stack costs (almost) no CPU
                    self._stopping.wait(idle)
                    idle = min(idle * 2, IDLE_SECONDS[1])
            except Exception:
                log.exception("poller error on %s", self._spec.logical_id)
                self._stopping.wait(1.0)

    def poll_once(self, handler: Any) -> int:
        response = self._client.receive_message(
            QueueUrl=self._queue_url,
            MaxNumberOfMessages=min(self._trigger.batch_size, 10),
            WaitTimeSeconds=0,  # short polls: the emulator serves one call at a time
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        )
        messages: list[dict[str, Any]] = list(response.get("Messages", []))  # type: ignore[arg-type]
        if not messages:
            return 0
        event = lambda_event(messages, self._queue_arn, self._client.meta.region_name)
        context = context_for(self._spec)
        try:
            result = handler(event, context)
        except Exception:
            log.exception("invocation of %s failed", self._spec.logical_id)
            return 0
        failed = set()
        if self._trigger.reports_item_failures and isinstance(result, dict):
            failed = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self._client.delete_message_batch(
                QueueUrl=self._queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        return len(done)


class ScheduledInvoker(threading.Thread):
    """The local stand-in for an EventBridge schedule: invoke the function every ``period`` seconds."""

    def __init__(self, spec: FunctionSpec, period_seconds: float) -> None:
        super().__init__(name=f"schedule-{spec.logical_id}", daemon=True)
        self._spec = spec
        self._period = period_seconds
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        handler = load_handler(self._spec)
        while not self._stopping.wait(self._period):
            try:
                handler(
                    {"source": "aws.scheduler", "detail-type": "Scheduled Event", "detail": {}}, context_for(self._spec)
                )
            except Exception:
                log.exception("scheduled run of %s failed", self._spec.logical_id)
