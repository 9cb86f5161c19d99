"""DynamoDB adapter for predictions.

Item ``TENANT#<tenant> / PRED#<id>``: input and output are stored as compact JSON strings so they
round-trip exactly. An output too large to sit beside its input in one 400 KB item goes to a
sibling item ``PREDOUT#<id>`` written in the same transaction as the status change.
"""

import builtins
import json
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from shared.adapters.dynamodb.deliveries import delivery_item
from shared.adapters.dynamodb.idempotency import claim_put, release_claim, replay_of
from shared.adapters.dynamodb.sweep import overdue_entries, postpone_entry
from shared.adapters.dynamodb.table import (
    ConditionLostError,
    call,
    is_condition_failure,
    lost_item,
    newest_first_page,
    tenant_pk,
    write_status_change,
)
from shared.kernel.clock import from_rfc3339, to_rfc3339
from shared.kernel.idempotency import IdempotencyClaim
from shared.kernel.jsoncodec import dumps
from shared.predictions.models import (
    STUCK_AFTER,
    Overdue,
    Prediction,
    PredictionError,
    PredictionNotFoundError,
    PredictionStatus,
    Transition,
    TransitionRejectedError,
    WebhookEvent,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        AttributeValueTypeDef,
        TransactWriteItemTypeDef,
        UpdateItemInputTypeDef,
    )

Item = dict[str, "AttributeValueTypeDef"]

PREFIX = "PRED#"
OUTPUT_PREFIX = "PREDOUT#"
IDEMPOTENCY_PREFIX = "IDEM#"
# Input is at most 256 KiB, so an output up to this size always fits the 400 KB item beside it.
INLINE_OUTPUT_LIMIT = 100_000


SWEEP_PARTITION = "SWEEP"


class DynamoPredictionStore:
    """Unfinished predictions carry ``sweep_pk``/``sweep_at`` (their deadline), which puts them in the
    sparse ``Sweep`` index; a terminal transition removes both, so the index holds only live work."""

    def __init__(self, table_name: str, client: "DynamoDBClient", stuck_after: timedelta = STUCK_AFTER) -> None:
        self._table = table_name
        self._client = client
        self._stuck_after = stuck_after

    def create(self, prediction: Prediction, claim: IdempotencyClaim | None = None) -> None:
        item = _to_item(prediction)
        item["sweep_pk"] = {"S": SWEEP_PARTITION}
        item["sweep_at"] = {"S": _after(prediction.created_at, self._stuck_after)}
        if claim is None:
            try:
                call(
                    lambda: self._client.put_item(
                        TableName=self._table,
                        Item=item,
                        ConditionExpression="attribute_not_exists(PK)",
                        ReturnValuesOnConditionCheckFailure="ALL_OLD",
                    )
                )
            except ClientError as exc:
                # The id is a fresh ULID, so an item already there is this very write: the SDK retried it
                # after losing the first response. Anything else is a fault.
                stored = lost_item(exc) if is_condition_failure(exc) else None
                if stored is None or _from_item(stored).input != prediction.input:
                    raise
            return
        put: TransactWriteItemTypeDef = {
            "Put": {"TableName": self._table, "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}
        }
        taken = claim_put(self._table, prediction.tenant, claim, IDEMPOTENCY_PREFIX, "prediction_id", prediction.id)
        try:
            call(lambda: self._client.transact_write_items(TransactItems=[put, taken]))
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            lost = replay_of(
                self._client, self._table, prediction.tenant, claim, IDEMPOTENCY_PREFIX, "prediction_id", exc
            )
            raise lost from exc

    def release(self, prediction: Prediction, claim: IdempotencyClaim) -> None:
        release_claim(
            self._client, self._table, prediction.tenant, claim, IDEMPOTENCY_PREFIX, "prediction_id", prediction.id
        )

    def get(self, tenant: str, prediction_id: str) -> Prediction:
        response = call(
            lambda: self._client.get_item(TableName=self._table, Key=_key(tenant, prediction_id), ConsistentRead=True)
        )
        item = response.get("Item")
        if item is None:
            raise PredictionNotFoundError(prediction_id)
        return self._with_output(_from_item(item), item)

    def list(self, tenant: str, limit: int, after: str | None) -> tuple[list[Prediction], str | None]:
        def parse(item: Item) -> Prediction:
            return self._with_output(_from_item(item), item)

        return newest_first_page(self._client, self._table, tenant, PREFIX, limit, after, parse)

    def transition(self, prediction: Prediction, transition: Transition) -> Prediction:
        """Write ``transition`` on ``prediction`` (as the caller holds it) and answer the result without
        reading it back: the item ``UpdateItem`` returns, or after a transaction ``prediction`` with the
        change applied. A prediction moved on meanwhile to another allowed source is moved from there."""
        tenant, prediction_id = prediction.tenant, prediction.id
        output = dumps(transition.output) if transition.output is not None else None  # encoded once
        # The output when it is too large to sit inline, stored in its own item then.
        overflow = output if output is not None and len(output.encode()) > INLINE_OUTPUT_LIMIT else None
        update = _update_for(self._table, tenant, prediction_id, transition, output, inline_output=overflow is None)
        if transition.status is PredictionStatus.PROCESSING:  # a new deadline for the run
            update["UpdateExpression"] += ", sweep_at = :deadline"
            deadline: AttributeValueTypeDef = {"S": _after(transition.at, self._stuck_after)}
            update["ExpressionAttributeValues"] = {**update["ExpressionAttributeValues"], ":deadline": deadline}
        else:  # finished: out of the sweeper's index
            update["UpdateExpression"] += " REMOVE sweep_pk, sweep_at"
        # The status change and what it implies, all or nothing.
        together: list[TransactWriteItemTypeDef] = [
            {"Put": {"TableName": self._table, "Item": delivery_item(tenant, prediction_id, d, transition.at)}}
            for d in transition.deliveries
        ]
        if overflow is not None:
            item = _overflow_item(prediction, overflow)
            together.append({"Put": {"TableName": self._table, "Item": item}})
        try:
            written = write_status_change(self._client, update, together, prediction.status.value)
        except ConditionLostError as lost:
            if lost.current is None:
                raise PredictionNotFoundError(prediction_id) from lost
            current = self._with_output(_from_item(lost.current), lost.current)
            if current.status in transition.sources and current.status is not prediction.status:
                return self.transition(current, transition)  # a transaction pinned to what we held: once more
            raise TransitionRejectedError(current) from lost
        return transition.apply(prediction) if written is None else _from_item(written)

    def overdue(self, now: str, limit: int) -> "builtins.list[Overdue]":
        """Unfinished predictions whose deadline is before ``now``, oldest deadline first."""
        entries = overdue_entries(self._client, self._table, SWEEP_PARTITION, PREFIX, now, limit)
        return [Overdue(e.tenant, e.item_id, e.deadline, e.sweeps) for e in entries]

    def postpone(self, overdue: Overdue, next_deadline: str) -> bool:
        """Count one more sweep and move the deadline, unless the prediction finished or another sweeper
        got there first (the deadline it saw has changed)."""
        key = _key(overdue.tenant, overdue.prediction_id)
        unfinished = [PredictionStatus.STARTING.value, PredictionStatus.PROCESSING.value]
        return postpone_entry(self._client, self._table, key, overdue.deadline, next_deadline, unfinished) is not None

    def _with_output(self, prediction: Prediction, item: Item) -> Prediction:
        if "output_ref" not in item:
            return prediction
        key = {"PK": item["PK"], "SK": {"S": OUTPUT_PREFIX + prediction.id}}
        response = call(lambda: self._client.get_item(TableName=self._table, Key=key, ConsistentRead=True))
        stored = response.get("Item")
        return replace(prediction, output=json.loads(stored["output"]["S"])) if stored else prediction


def _overflow_item(prediction: Prediction, output: str) -> Item:
    return {
        "PK": {"S": tenant_pk(prediction.tenant)},
        "SK": {"S": OUTPUT_PREFIX + prediction.id},
        "output": {"S": output},
        "expires_at": {"N": str(prediction.expires_at)},
    }


def _after(moment: str, delay: timedelta) -> str:
    return to_rfc3339(from_rfc3339(moment) + delay)


def _key(tenant: str, prediction_id: str) -> Item:
    return {"PK": {"S": tenant_pk(tenant)}, "SK": {"S": PREFIX + prediction_id}}


def _update_for(
    table: str, tenant: str, prediction_id: str, transition: Transition, output: str | None, *, inline_output: bool
) -> "UpdateItemInputTypeDef":
    """``output`` is ``transition.output`` as stored (compact JSON), None when there is none."""
    sources = sorted(transition.sources)
    names = {"#status": "status"}
    values: dict[str, Any] = {f":src{i}": {"S": s.value} for i, s in enumerate(sources)}
    values[":status"] = {"S": transition.status.value}
    values[":at"] = {"S": transition.at}
    if transition.status is PredictionStatus.PROCESSING:
        expression = "SET #status = :status, started_at = :at"
    else:
        parts = ["#status = :status", "completed_at = :at"]
        if output is not None and inline_output:
            names["#output"] = "output"
            values[":output"] = {"S": output}
            parts.insert(0, "#output = :output")
        elif output is not None:
            values[":ref"] = {"S": OUTPUT_PREFIX}
            parts.append("output_ref = :ref")
        if transition.error is not None:
            values[":error"] = {"M": {"code": {"S": transition.error.code}, "message": {"S": transition.error.message}}}
            parts.append("#error = :error")
            names["#error"] = "error"
        if transition.predict_time is not None:
            values[":ptime"] = {"N": repr(transition.predict_time)}
            parts.append("predict_time = :ptime")
        expression = "SET " + ", ".join(parts)
    condition = "#status IN (" + ", ".join(f":src{i}" for i in range(len(sources))) + ")"
    return {
        "TableName": table,
        "Key": _key(tenant, prediction_id),
        "UpdateExpression": expression,
        "ConditionExpression": condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }


def _to_item(prediction: Prediction) -> Item:
    item: Item = {
        "PK": {"S": tenant_pk(prediction.tenant)},
        "SK": {"S": PREFIX + prediction.id},
        "kind": {"S": "prediction"},
        "status": {"S": prediction.status.value},
        "model": {"S": prediction.model},
        "version": {"N": str(prediction.version)},
        "input": {"S": dumps(prediction.input)},
        "metadata": {"S": dumps(prediction.metadata)},
        "webhook_events_filter": {"L": [{"S": event.value} for event in prediction.webhook_events_filter]},
        "created_at": {"S": prediction.created_at},
        "expires_at": {"N": str(prediction.expires_at)},
    }
    if prediction.webhook is not None:
        item["webhook"] = {"S": prediction.webhook}
    return item


def _from_item(item: Item) -> Prediction:
    error = item.get("error")
    error_map = error["M"] if error else None
    return Prediction(
        id=item["SK"]["S"].removeprefix(PREFIX),
        tenant=item["PK"]["S"].removeprefix("TENANT#"),
        model=item["model"]["S"],
        version=int(item["version"]["N"]),
        status=PredictionStatus(item["status"]["S"]),
        input=json.loads(item["input"]["S"]),
        created_at=item["created_at"]["S"],
        expires_at=int(item["expires_at"]["N"]),
        output=json.loads(item["output"]["S"]) if "output" in item else None,
        error=PredictionError(error_map["code"]["S"], error_map["message"]["S"]) if error_map else None,
        metadata=json.loads(item["metadata"]["S"]),
        webhook=item["webhook"]["S"] if "webhook" in item else None,
        webhook_events_filter=tuple(WebhookEvent(e["S"]) for e in item["webhook_events_filter"]["L"]),
        started_at=item["started_at"]["S"] if "started_at" in item else None,
        completed_at=item["completed_at"]["S"] if "completed_at" in item else None,
        predict_time=float(item["predict_time"]["N"]) if "predict_time" in item else None,
    )
