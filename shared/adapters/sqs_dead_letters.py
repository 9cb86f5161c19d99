"""A dead-letter queue and the queue its messages came from: peek without consuming, move back as they are."""

import json
from typing import TYPE_CHECKING, Any

from shared.operations.commands import SHOWN_BODY_CHARS, DeadLetter, DeadLetterKind

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

_QUIET_ROUNDS = 2  # a peek stops after two answers with nothing new (visibility 0: the same ones come back)


class SqsDeadLetterQueue:
    def __init__(self, dlq_url: str, queue_url: str, client: "SQSClient") -> None:
        self._dlq_url = dlq_url
        self._queue_url = queue_url
        self._client = client

    def peek(self, kind: DeadLetterKind, limit: int) -> list[DeadLetter]:
        found: dict[str, DeadLetter] = {}
        quiet = 0
        while quiet < _QUIET_ROUNDS and len(found) < limit:
            messages = self._client.receive_message(
                QueueUrl=self._dlq_url,
                MaxNumberOfMessages=min(10, limit - len(found)),
                VisibilityTimeout=0,  # a peek: the message stays visible
                WaitTimeSeconds=1,  # long polling asks every host: a short poll samples some and may miss
                MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
            ).get("Messages", [])
            if not messages:
                break  # a long poll that finds nothing: the queue holds nothing visible
            fresh = [m for m in messages if m["MessageId"] not in found]
            quiet = 0 if fresh else quiet + 1
            for message in fresh:
                attributes = message.get("Attributes", {})
                found[message["MessageId"]] = DeadLetter(
                    queue=kind,
                    message_id=message["MessageId"],
                    receive_count=int(attributes.get("ApproximateReceiveCount", 0)),
                    sent_timestamp=int(attributes.get("SentTimestamp", 0)),
                    body=_shown(message["Body"]),
                )
        return list(found.values())[:limit]

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


def _shown(body: str) -> Any:
    """The body as JSON; one that is not JSON, or is too long to list, as text (cut)."""
    if len(body) > SHOWN_BODY_CHARS:
        return body[:SHOWN_BODY_CHARS] + "..."
    try:
        return json.loads(body)
    except ValueError:
        return body
