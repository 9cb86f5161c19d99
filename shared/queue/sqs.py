"""Publish prediction work to SQS, carrying the correlation id as a message attribute."""

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from shared.errors import TransientError
from shared.observability import CORRELATION_ID_ATTRIBUTE
from shared.queue.messages import RunPrediction

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageAttributeValueTypeDef


class SqsPredictionQueue:
    def __init__(self, queue_url: str, client: "SQSClient") -> None:
        self._queue_url = queue_url
        self._client = client

    def enqueue(self, tenant: str, prediction_id: str, correlation_id: str | None) -> None:
        attributes: dict[str, MessageAttributeValueTypeDef] = {}
        if correlation_id:
            attributes[CORRELATION_ID_ATTRIBUTE] = {"DataType": "String", "StringValue": correlation_id}
        try:
            self._client.send_message(
                QueueUrl=self._queue_url,
                MessageBody=RunPrediction(tenant, prediction_id).to_body(),
                MessageAttributes=attributes,
            )
        except (ClientError, BotoCoreError) as exc:
            raise TransientError("the predictions queue is unavailable") from exc
