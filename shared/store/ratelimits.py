"""DynamoDB adapter for rate limits: the generic cell rate algorithm (GCRA) in conditional writes.

One item per API key, ``RATE#<key id> / RATE``, holding the theoretical arrival time ``tat`` (ms).
A request is admitted when ``max(tat, now) <= now + tolerance``, and then ``tat`` moves to
``max(tat, now) + interval``. DynamoDB cannot compute ``max``, so the two cases are two conditional
updates; usually the first one applies (one write per request), and a key over its limit costs two
failed conditional writes and no read. Every container shares the item, so the limit is global.

The clock is read again at every attempt: a request that waited (a retried or slow call) must not be
judged against a ``now`` taken before other requests moved ``tat`` on.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from shared.ratelimit.models import RateLimit
from shared.store.dynamo import call, is_condition_failure

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

_ATTEMPTS = 3  # the item may change between the two updates; re-evaluate a few times
_KEEP_SECONDS = 3600  # TTL: an idle key's item disappears after an hour


class DynamoRateLimitStore:
    def __init__(self, table_name: str, client: "DynamoDBClient") -> None:
        self._table = table_name
        self._client = client

    def admit(self, key_id: str, clock: Callable[[], int], limit: RateLimit) -> float | None:
        key: dict[str, AttributeValueTypeDef] = {"PK": {"S": f"RATE#{key_id}"}, "SK": {"S": "RATE"}}
        interval = int(limit.interval_ms)
        for _ in range(_ATTEMPTS):
            now_ms = clock()
            ceiling = now_ms + int(limit.tolerance_ms)
            expires: AttributeValueTypeDef = {"N": str(now_ms // 1000 + _KEEP_SECONDS)}
            # Idle key (tat in the past, or no item): tat = now + interval.
            applied, _ = self._update(
                key,
                "SET tat = :next, expires_at = :expires",
                "attribute_not_exists(tat) OR tat <= :now",
                {":next": {"N": str(now_ms + interval)}, ":now": {"N": str(now_ms)}, ":expires": expires},
            )
            if applied:
                return None
            # Busy key (tat ahead of now): admitted while tat is within the tolerance.
            applied, stored = self._update(
                key,
                "SET tat = tat + :interval, expires_at = :expires",
                "tat > :now AND tat <= :ceiling",
                {
                    ":interval": {"N": str(interval)},
                    ":now": {"N": str(now_ms)},
                    ":ceiling": {"N": str(ceiling)},
                    ":expires": expires,
                },
            )
            if applied:
                return None
            if stored is not None:
                wait_ms = stored - (clock() + int(limit.tolerance_ms))  # judged now, not when we started
                if wait_ms > 0:
                    return float(wait_ms)
            # Neither applied: another request moved tat in between; evaluate again.
        return float(interval)

    def _update(
        self,
        key: dict[str, "AttributeValueTypeDef"],
        update: str,
        condition: str,
        values: dict[str, "AttributeValueTypeDef"],
    ) -> tuple[bool, int | None]:
        """(applied, the stored tat when the condition failed and an item exists)."""
        try:
            call(
                lambda: self._client.update_item(
                    TableName=self._table,
                    Key=key,
                    UpdateExpression=update,
                    ConditionExpression=condition,
                    ExpressionAttributeValues=values,
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            old: Any = exc.response.get("Item") or {}
            return False, int(old["tat"]["N"]) if "tat" in old else None
        return True, None
