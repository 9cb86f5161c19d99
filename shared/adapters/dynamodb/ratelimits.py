"""DynamoDB adapter for rate limits: the generic cell rate algorithm (GCRA) in conditional writes.

One item per API key, ``RATE#<key id> / RATE``, holding the theoretical arrival time ``tat`` (ms).
A request is admitted when ``max(tat, now) <= now + tolerance``, and then ``tat`` moves to
``max(tat, now) + interval``. DynamoDB cannot compute ``max``, so the two cases are two conditional
updates. The container tries first the one the key needed last time (a key sending faster than its
interval stays "busy", a quiet one "idle"), so a request usually costs one write; when the condition
fails, the stored ``tat`` it returns says which update applies, or that the key is over its limit
(one failed write, no read). Every container shares the item, so the limit is global. One write may
count several requests at once (a container's lease, ``shared/ratelimit/service.py``): the last of them
must fit the tolerance, and when it does not, the stored ``tat`` says how many do.

Contention alone refuses a request only after ``_MAX_ATTEMPTS`` lost writes in a row; otherwise only the
stored state does. Each attempt judges the stored ``tat`` and
writes with one and the same ``now``, and ``tat`` only ever grows (both updates move it forward), so a
lost write means another request's write landed in between, never that the clock moved between judging
and writing (which is what refused requests of keys well within their limit). A request is refused only
when the ``tat`` a lost write returned is beyond ``now + tolerance``. The clock is read again after every
lost write, so a request that waited for its turn is judged when it writes, never by a stale reading
(under heavy contention a reading a few hundred milliseconds old refused requests of keys under their
limit). The retries end because they are counted: after ``_MAX_ATTEMPTS`` lost writes in a row (other
requests of the same key winning every race) the request is refused for one interval, a refusal the
contention, not the stored state, justifies; each lost busy update also leaves fewer of the wanted
requests that fit.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from shared.adapters.dynamodb.table import call, is_condition_failure
from shared.ratelimit.models import Admission, RateLimit

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

_MAX_ATTEMPTS = 64  # lost writes in a row after which a request is refused for one interval (so retries end)
_KEEP_SECONDS = 3600  # TTL: an idle key's item disappears after an hour
_REMEMBERED_KEYS = 10_000  # busy-key hints kept per container (a hint only orders the two updates)


class DynamoRateLimitStore:
    def __init__(self, table_name: str, client: "DynamoDBClient") -> None:
        self._table = table_name
        self._client = client
        self._busy_keys: dict[str, None] = {}  # insertion-ordered set: keys last admitted while busy

    def admit(self, key_id: str, clock: Callable[[], int], limit: RateLimit, wanted: int = 1) -> Admission:
        key: dict[str, AttributeValueTypeDef] = {"PK": {"S": f"RATE#{key_id}"}, "SK": {"S": "RATE"}}
        tolerance = int(limit.tolerance_ms)
        interval = max(1, int(limit.interval_ms))
        wanted = max(1, min(wanted, limit.burst))
        busy = key_id in self._busy_keys  # the branch this key needed last time in this container: a guess
        now_ms = clock()
        lost = 0
        while True:  # ends: see the module docstring
            if busy:
                applied, stored = self._busy(key, now_ms, tolerance, interval, wanted)
            else:
                applied, stored = self._idle(key, now_ms, interval, wanted)
            if applied:
                self._remember(key_id, busy)
                return Admission(granted=wanted)
            lost += 1
            if lost >= _MAX_ATTEMPTS:  # every race lost: the key is as busy as it gets; try again shortly
                return Admission(granted=0, retry_after_ms=float(interval))
            now_ms = clock()  # judged when it writes: a request that waited is not judged by a stale clock
            # The stored tat alone decides: over the limit at now_ms, or which update applies (written with
            # this same now_ms) and how many of the wanted requests still fit.
            if stored is not None and stored > now_ms + tolerance:
                return Admission(granted=0, retry_after_ms=float(stored - (now_ms + tolerance)))
            busy = stored is not None and stored > now_ms
            if stored is not None and busy:
                wanted = min(wanted, (now_ms + tolerance - stored) // interval + 1)

    def _idle(
        self, key: dict[str, "AttributeValueTypeDef"], now_ms: int, interval: int, wanted: int
    ) -> tuple[bool, int | None]:
        """Idle key (tat in the past, or no item): tat = now + wanted intervals (wanted <= burst fits)."""
        return self._update(
            key,
            "SET tat = :next, expires_at = :expires",
            "attribute_not_exists(tat) OR tat <= :now",
            {
                ":next": {"N": str(now_ms + wanted * interval)},
                ":now": {"N": str(now_ms)},
                ":expires": _expiry(now_ms),
            },
        )

    def _busy(
        self, key: dict[str, "AttributeValueTypeDef"], now_ms: int, tolerance: int, interval: int, wanted: int
    ) -> tuple[bool, int | None]:
        """Busy key (tat ahead of now): admitted while the last of the wanted requests stays within the
        tolerance; tat moves one interval per request."""
        return self._update(
            key,
            "SET tat = tat + :step, expires_at = :expires",
            "tat > :now AND tat <= :ceiling",
            {
                ":step": {"N": str(wanted * interval)},
                ":now": {"N": str(now_ms)},
                ":ceiling": {"N": str(now_ms + tolerance - (wanted - 1) * interval)},
                ":expires": _expiry(now_ms),
            },
        )

    def _remember(self, key_id: str, busy: bool) -> None:
        if not busy:
            self._busy_keys.pop(key_id, None)
            return
        self._busy_keys[key_id] = None
        if len(self._busy_keys) > _REMEMBERED_KEYS:
            self._busy_keys.pop(next(iter(self._busy_keys)))

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


def _expiry(now_ms: int) -> "AttributeValueTypeDef":
    return {"N": str(now_ms // 1000 + _KEEP_SECONDS)}
