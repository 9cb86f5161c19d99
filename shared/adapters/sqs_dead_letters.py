"""A dead-letter queue and the queue its messages came from: peek without consuming, move back as they are."""

import json
from typing import TYPE_CHECKING

from shared.operations.commands import DeadLetter, DeadLetterKind

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

_QUIET_ROUNDS = 3  # SQS samples its hosts: a peek stops after three answers with nothing new


class SqsDeadLetterQueue:
    def __init__(self, dlq_url: str, queue_url: str, client: "SQSClient") -> None:
        self._dlq_url = dlq_url
        self._queue_url = queue_url
        self._client = client

    def peek(self, kind: DeadLetterKind) -> list[DeadLetter]:
        found: dict[str, DeadLetter] = {}
        quiet = 0
        while quiet < _QUIET_ROUNDS:
            messages = self._client.receive_message(
                QueueUrl=self._dlq_url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=0,  # a peek: the message stays visible
                WaitTimeSeconds=0 if found or quiet else 1,
                MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
            ).get("Messages", [])
            fresh = [m for m in messages if m["MessageId"] not in found]
            quiet = 0 if fresh else quiet + 1
            for message in fresh:
                attributes = message.get("Attributes", {})
                found[message["MessageId"]] = DeadLetter(
                    queue=kind,
                    message_id=message["MessageId"],
                    receive_count=int(attributes.get("ApproximateReceiveCount", 0)),
                    sent_timestamp=int(attributes.get("SentTimestamp", 0)),
                    body=json.loads(message["Body"]),
                )
        return list(found.values())

    def move_back(self, limit: int) -> int:
        moved = 0
        while moved < limit:
            messages = self._client.receive_message(
                QueueUrl=self._dlq_url,
                MaxNumberOfMessages=min(10, limit - moved),
                WaitTimeSeconds=1,  # long polling: an empty answer means empty
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not messages:
                break
            for message in messages:
                self._client.send_message(
                    QueueUrl=self._queue_url,
                    MessageBody=message["Body"],
                    MessageAttributes=message.get("MessageAttributes", {}),
                )
                self._client.delete_message(QueueUrl=self._dlq_url, ReceiptHandle=message["ReceiptHandle"])
                moved += 1
        return moved
