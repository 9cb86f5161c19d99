"""DynamoDB adapter for batches: ``TENANT#<tenant> / BATCH#<id>``.

Counts are numbers updated with ``ADD``; ``done_chunks`` is a number set of the chunks already counted,
so a chunk delivered twice is counted once (the update is conditional on the chunk not being in it), and
the same update adds it to the set of its outcome (``ran_chunks``, ``canceled_chunks``,
``timed_out_chunks``), which says which of its parts the result files are made of.

An unfinished batch carries ``sweep_pk``/``sweep_at``: its deadline, in the sparse ``Sweep`` index under a
partition of its own (predictions' queries never see batches). Progress (a status change, a counted chunk)
moves the deadline ``stuck_after`` on and forgets the sweeps; a final status removes both attributes. A
deadline is never set past the end of the batch's completion window while that is still ahead, so the
sweeper finds a batch that keeps progressing when its window ends.

Times are stored as RFC 3339 text, as before the public object showed Unix seconds; statuses are stored in
OpenAI's spellings. Batches stored before that (kept for the retention) say ``canceling``/``canceled``:
they are read as ``cancelling``/``cancelled``, and every condition on a status accepts both spellings, so
a cancel written the old way still ends; the next status change writes the new spelling.
"""

import builtins
import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from shared.adapters.dynamodb.deliveries import delivery_item
from shared.adapters.dynamodb.idempotency import claim_put, release_claim, replay_of
from shared.adapters.dynamodb.sweep import overdue_entries, postpone_entry
from shared.adapters.dynamodb.table import (
    ConditionLostError,
    call,
    is_condition_failure,
    newest_first_page,
    tenant_pk,
    write_status_change,
)
from shared.batches.models import (
    Batch,
    BatchDialect,
    BatchNotFoundError,
    BatchStatus,
    BatchTransition,
    BatchTransitionRejectedError,
    ChunkOutcome,
    ChunkResult,
    LineProblem,
    OverdueBatch,
    RequestCounts,
)
from shared.kernel.clock import from_rfc3339, to_rfc3339, utc_now
from shared.kernel.idempotency import IdempotencyClaim
from shared.predictions.models import STUCK_AFTER

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, TransactWriteItemTypeDef

Item = dict[str, "AttributeValueTypeDef"]

PREFIX = "BATCH#"
OUTCOME_SETS = {
    ChunkOutcome.RAN: "ran_chunks",
    ChunkOutcome.CANCELED: "canceled_chunks",
    ChunkOutcome.TIMED_OUT: "timed_out_chunks",
    ChunkOutcome.EXPIRED: "expired_chunks",
}
IDEMPOTENCY_PREFIX = "IDEM#batches#"  # a key used for a prediction and for a batch names two requests
SWEEP_PARTITION = "SWEEP#BATCH"
UNFINISHED = (BatchStatus.VALIDATING, BatchStatus.IN_PROGRESS, BatchStatus.FINALIZING, BatchStatus.CANCELING)
OLD_SPELLINGS = {BatchStatus.CANCELING: ("canceling",), BatchStatus.CANCELED: ("canceled",)}
READ_STATUS = {spelling: status for status, spellings in OLD_SPELLINGS.items() for spelling in spellings}


class DynamoBatchStore:
    def __init__(self, table_name: str, client: "DynamoDBClient", stuck_after: timedelta = STUCK_AFTER) -> None:
        self._table = table_name
        self._client = client
        self._stuck_after = stuck_after

    def create(self, batch: Batch, claim: IdempotencyClaim | None = None) -> None:
        """Store a new batch (with its idempotency claim, atomically); ``IdempotentReplayError`` when the
        claim's key is held by an unexpired claim."""
        condition = "attribute_not_exists(PK)"
        item = _to_item(batch)
        item["sweep_pk"] = {"S": SWEEP_PARTITION}
        item["sweep_at"] = {"S": self._deadline(batch.window_ends_at, from_rfc3339(batch.created_at))}
        put: TransactWriteItemTypeDef = {
            "Put": {"TableName": self._table, "Item": item, "ConditionExpression": condition}
        }
        if claim is None:  # one PutItem: a one-item transaction would cost twice the write units
            call(lambda: self._client.put_item(**put["Put"]))
            return
        taken = claim_put(self._table, batch.tenant, claim, IDEMPOTENCY_PREFIX, "batch_id", batch.id)
        try:
            call(lambda: self._client.transact_write_items(TransactItems=[put, taken]))
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            raise replay_of(
                self._client, self._table, batch.tenant, claim, IDEMPOTENCY_PREFIX, "batch_id", exc
            ) from exc

    def release(self, batch: Batch, claim: IdempotencyClaim) -> None:
        release_claim(self._client, self._table, batch.tenant, claim, IDEMPOTENCY_PREFIX, "batch_id", batch.id)

    def get(self, tenant: str, batch_id: str) -> Batch:
        response = call(
            lambda: self._client.get_item(TableName=self._table, Key=_key(tenant, batch_id), ConsistentRead=True)
        )
        item = response.get("Item")
        if item is None:
            raise BatchNotFoundError(batch_id)
        return _from_item(item)

    def list(self, tenant: str, limit: int, after: str | None) -> tuple["builtins.list[Batch]", str | None]:
        """Newest first."""
        return newest_first_page(self._client, self._table, tenant, PREFIX, limit, after, _from_item)

    def transition(self, batch: Batch, transition: BatchTransition) -> Batch:
        """Write ``transition`` on ``batch`` (as the caller holds it) and answer the result without reading
        it back: the item ``UpdateItem`` returns, or after the transaction that writes webhook deliveries
        with a final change, ``batch`` with the change applied (nothing else changes a batch whose chunks
        are all counted)."""
        names = {"#status": "status"}
        sources = [spelling for source in sorted(transition.sources) for spelling in _spellings(source)]
        values: dict[str, AttributeValueTypeDef] = {f":src{i}": {"S": spelling} for i, spelling in enumerate(sources)}
        values[":status"] = {"S": transition.status.value}
        sets = ["#status = :status"]
        for name, value in _written(transition).items():
            names[f"#{name}"] = name
            values[f":{name}"] = value
            sets.append(f"#{name} = :{name}")
        if transition.status.is_final:  # out of the sweeper's index
            expression = "SET " + ", ".join(sets) + " REMOVE sweep_pk, sweep_at"
        else:  # a new deadline, and a clean sheet with the sweeper
            values[":deadline"] = {"S": self._deadline(batch.window_ends_at)}
            expression = "SET " + ", ".join([*sets, "sweep_at = :deadline"]) + " REMOVE sweeps"
        condition = "#status IN (" + ", ".join(f":src{i}" for i in range(len(sources))) + ")"
        update = {
            "TableName": self._table,
            "Key": _key(batch.tenant, batch.id),
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        together: list[TransactWriteItemTypeDef] = [
            {"Put": {"TableName": self._table, "Item": delivery_item(batch.tenant, batch.id, planned, transition.at)}}
            for planned in transition.deliveries
        ]
        try:
            written = write_status_change(self._client, update, together, _spellings(batch.status))
        except ConditionLostError as lost:
            if lost.current is None:
                raise BatchNotFoundError(batch.id) from lost
            current = _from_item(lost.current)
            if current.status in transition.sources and current.status is not batch.status:
                return self.transition(current, transition)  # a transaction pinned to what we held: once more
            raise BatchTransitionRejectedError(current) from lost
        return transition.apply(batch) if written is None else _from_item(written)

    def count_chunk(self, tenant: str, batch_id: str, result: ChunkResult) -> Batch | None:
        """Add the chunk's counts once. None when it was counted before (a duplicate delivery) or the
        batch is no longer running."""
        deadline = self._deadline(None)
        running = [s for status in (BatchStatus.IN_PROGRESS, BatchStatus.CANCELING) for s in _spellings(status)]
        try:
            response = call(
                lambda: self._client.update_item(
                    TableName=self._table,
                    Key=_key(tenant, batch_id),
                    UpdateExpression="SET sweep_at = :deadline REMOVE sweeps "
                    + "ADD completed :completed, failed :failed, chunks_done :one, done_chunks :chunk, "
                    + f"{OUTCOME_SETS[result.outcome]} :chunk",
                    ConditionExpression="NOT contains(done_chunks, :index) AND #status IN ("
                    + ", ".join(f":running{i}" for i in range(len(running)))
                    + ")",
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues={
                        ":completed": {"N": str(result.completed)},
                        ":failed": {"N": str(result.failed)},
                        ":one": {"N": "1"},
                        ":chunk": {"NS": [str(result.chunk)]},
                        ":index": {"N": str(result.chunk)},
                        **{f":running{i}": {"S": spelling} for i, spelling in enumerate(running)},
                        ":deadline": {"S": deadline},
                    },
                    ReturnValues="ALL_NEW",
                )
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return None
            raise
        counted = _from_item(response["Attributes"])
        self._keep_within_window(counted, deadline)
        return counted

    def overdue(self, now: str, limit: int) -> "builtins.list[OverdueBatch]":
        """Unfinished batches whose deadline is before ``now``, oldest deadline first."""
        entries = overdue_entries(self._client, self._table, SWEEP_PARTITION, PREFIX, now, limit)
        return [OverdueBatch(e.tenant, e.item_id, e.deadline, e.sweeps) for e in entries]

    def postpone(self, overdue: OverdueBatch, next_deadline: str) -> bool:
        """Count one more sweep and move the deadline, unless the batch finished or progressed, or another
        sweeper got there first (the deadline it saw has changed)."""
        key = _key(overdue.tenant, overdue.batch_id)
        unfinished = [spelling for status in UNFINISHED for spelling in _spellings(status)]
        written = postpone_entry(self._client, self._table, key, overdue.deadline, next_deadline, unfinished)
        if written is None:
            return False
        self._keep_within_window(_from_item(written), next_deadline)
        return True

    def _deadline(self, window_ends_at: str | None, now: datetime | None = None) -> str:
        """``stuck_after`` from now, or the end of the completion window if that comes first (and is ahead)."""
        moment = now or utc_now()
        deadline = to_rfc3339(moment + self._stuck_after)
        if window_ends_at is not None and to_rfc3339(moment) < window_ends_at < deadline:
            return window_ends_at
        return deadline

    def _keep_within_window(self, batch: Batch, written: str) -> None:
        """Bring the deadline just written (by a write that did not know the window) back to the window's
        end, if that comes first: one more write, only in the last ``stuck_after`` of a window."""
        capped = self._deadline(batch.window_ends_at)
        if capped >= written:
            return
        try:
            call(
                lambda: self._client.update_item(
                    TableName=self._table,
                    Key=_key(batch.tenant, batch.id),
                    UpdateExpression="SET sweep_at = :capped",
                    ConditionExpression="sweep_at = :written",  # unless another write moved it since
                    ExpressionAttributeValues={":capped": {"S": capped}, ":written": {"S": written}},
                )
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise


def _written(transition: BatchTransition) -> dict[str, "AttributeValueTypeDef"]:
    """The attributes a change writes besides its status (and the sweeper's)."""
    written: dict[str, AttributeValueTypeDef] = {}
    if transition.total is not None:
        written["total"] = {"N": str(transition.total)}
    if transition.chunks_total is not None:
        written["chunks_total"] = {"N": str(transition.chunks_total)}
    if transition.errors is not None:
        written["errors"] = {"S": json.dumps([_problem_row(p) for p in transition.errors])}
    for name, text in (
        ("output_key", transition.output_key),
        ("errors_key", transition.errors_key),
        *transition.reached_at.items(),
    ):
        if text is not None:
            written[name] = {"S": text}
    return written


def _spellings(status: BatchStatus) -> tuple[str, ...]:
    """How ``status`` may be stored: its value, and its spellings before OpenAI's."""
    return (status.value, *OLD_SPELLINGS.get(status, ()))


def _key(tenant: str, batch_id: str) -> Item:
    return {"PK": {"S": tenant_pk(tenant)}, "SK": {"S": PREFIX + batch_id}}


def _to_item(batch: Batch) -> Item:
    item: Item = {
        **_key(batch.tenant, batch.id),
        "kind": {"S": "batch"},
        "status": {"S": batch.status.value},
        "model": {"S": batch.model},
        "version": {"N": str(batch.version)},
        "input_key": {"S": batch.input_key},
        "dialect": {"S": batch.dialect.value},
        "metadata": {"S": json.dumps(batch.metadata)},
        "created_at": {"S": batch.created_at},
        "expires_at": {"N": str(batch.expires_at)},
        "total": {"N": str(batch.counts.total)},
        "completed": {"N": "0"},
        "failed": {"N": "0"},
        "chunks_done": {"N": "0"},
    }
    optional = {
        "webhook": batch.webhook,
        "input_upload_id": batch.input_upload_id,
        "endpoint": batch.endpoint,
        "input_file_id": batch.input_file_id,
        "output_file_id": batch.output_file_id,
        "error_file_id": batch.error_file_id,
        "window_ends_at": batch.window_ends_at,
    }
    item.update({name: {"S": value} for name, value in optional.items() if value is not None})
    return item


def _from_item(item: Item) -> Batch:
    def text(name: str) -> str | None:
        return item[name]["S"] if name in item else None

    errors = tuple(_problem(row) for row in json.loads(text("errors") or "[]"))
    return Batch(
        id=item["SK"]["S"].removeprefix(PREFIX),
        tenant=item["PK"]["S"].removeprefix("TENANT#"),
        model=item["model"]["S"],
        version=int(item["version"]["N"]),
        status=READ_STATUS.get(item["status"]["S"]) or BatchStatus(item["status"]["S"]),
        input_upload_id=text("input_upload_id"),
        input_key=item["input_key"]["S"],
        created_at=item["created_at"]["S"],
        expires_at=int(item["expires_at"]["N"]),
        counts=RequestCounts(int(item["total"]["N"]), int(item["completed"]["N"]), int(item["failed"]["N"])),
        errors=errors,
        metadata=json.loads(item["metadata"]["S"]),
        webhook=text("webhook"),
        completed_at=text("completed_at"),
        in_progress_at=text("in_progress_at"),
        finalizing_at=text("finalizing_at"),
        cancelling_at=text("cancelling_at"),
        window_ends_at=text("window_ends_at"),
        chunks_total=int(item["chunks_total"]["N"]) if "chunks_total" in item else None,
        chunks_done=int(item["chunks_done"]["N"]),
        done_chunks=_numbers(item, "done_chunks"),
        ran_chunks=_numbers(item, OUTCOME_SETS[ChunkOutcome.RAN]),
        canceled_chunks=_numbers(item, OUTCOME_SETS[ChunkOutcome.CANCELED]),
        timed_out_chunks=_numbers(item, OUTCOME_SETS[ChunkOutcome.TIMED_OUT]),
        expired_chunks=_numbers(item, OUTCOME_SETS[ChunkOutcome.EXPIRED]),
        output_key=text("output_key"),
        errors_key=text("errors_key"),
        dialect=BatchDialect(text("dialect") or BatchDialect.INFERGATE.value),  # batches stored before dialects
        endpoint=text("endpoint"),
        input_file_id=text("input_file_id"),
        output_file_id=text("output_file_id"),
        error_file_id=text("error_file_id"),
    )


def _numbers(item: Item, name: str) -> frozenset[int]:
    return frozenset(int(n) for n in item[name]["NS"]) if name in item else frozenset()


def _problem_row(problem: LineProblem) -> list[Any]:
    """``[line, code, message]``, and ``param`` after them when there is one (older items have three)."""
    row: list[Any] = [problem.line, problem.code, problem.message]
    return row if problem.param is None else [*row, problem.param]


def _problem(row: list[Any]) -> LineProblem:
    line, code, message, *param = row
    return LineProblem(int(line), str(code), str(message), str(param[0]) if param else None)
