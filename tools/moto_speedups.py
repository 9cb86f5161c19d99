"""Speed-ups for moto inside the local stack's emulator: the same answers, without costs that grow with the data.

Found by profiling the load test (py-spy on the emulator process). Three of moto's costs grew with
what the stack holds, so a long session slowed down quadratically:

- Every ``TransactWriteItems`` deep-copied *whole tables* to be able to roll back: with a few thousand
  items that was most of the emulator's time. Here only the items the transaction names are saved,
  and restored if it is cancelled, which is all a transaction can change.
- The SQS model reads the clock through a timezone-aware ``datetime`` once per message held, on every
  send and receive; the same number comes from ``time.time()``.
- The dispatcher listed moto's package directory on every request to recognise service names.

Installed only by the emulator process (``tools.emulator``), never into the tests' in-process moto.
"""

import copy
import datetime
import functools
import time
from collections.abc import Iterable
from typing import Any

from moto import backends
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.exceptions import MockValidationException, ResourceNotFoundException
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table
from moto.sqs import models as sqs_models

_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    backends.list_of_moto_modules = _moto_modules_once
    sqs_models.unix_time = _unix_time  # type: ignore[attr-defined]
    sqs_models.unix_time_millis = _unix_time_millis  # type: ignore[attr-defined]
    dynamodb_models.copy = _TablesAreNotCopied()  # type: ignore[attr-defined,assignment]
    dynamodb_models.DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
    _installed = True


_list_of_moto_modules = backends.list_of_moto_modules


@functools.cache
def _moto_modules_once() -> tuple[str, ...]:
    return tuple(_list_of_moto_modules())


_moto_unix_time = sqs_models.unix_time  # type: ignore[attr-defined]


def _unix_time(dt: datetime.datetime | None = None) -> float:
    return time.time() if dt is None else _moto_unix_time(dt)


def _unix_time_millis(dt: datetime.datetime | None = None) -> float:
    return _unix_time(dt) * 1000.0


class _TablesAreNotCopied:
    """Stands in for the ``copy`` module inside moto's DynamoDB backend: a table "copy" is the table itself
    (``_transact_write_items`` saves and restores the touched items instead); anything else is copied."""

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


_moto_transact_write_items = dynamodb_models.DynamoDBBackend.transact_write_items
_Saved = tuple[Table, DynamoType, DynamoType | None, Item | None]


def _transact_write_items(self: dynamodb_models.DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    saved = list(_touched_items(self, transact_items))
    try:
        _moto_transact_write_items(self, transact_items)
    except Exception:
        for table, hash_key, range_key, item in reversed(saved):
            _restore(table, hash_key, range_key, item)
        raise


def _touched_items(backend: dynamodb_models.DynamoDBBackend, transact_items: list[dict[str, Any]]) -> Iterable[_Saved]:
    for entry in transact_items:
        for operation in entry.values():
            try:
                table = backend.get_table(operation.get("TableName", ""))
                keys = operation.get("Key") or {
                    name: value
                    for name, value in operation.get("Item", {}).items()
                    if name in (table.hash_key_attr, table.range_key_attr)
                }
                hash_key, range_key = backend.get_keys_value(table, keys)
            except (ResourceNotFoundException, MockValidationException):
                continue  # moto refuses the operation itself; nothing of it is written
            yield table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))


def _restore(table: Table, hash_key: DynamoType, range_key: DynamoType | None, item: Item | None) -> None:
    if range_key is None:
        if item is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = item  # type: ignore[assignment]  # a table without a range key
    elif item is None:
        table.items.get(hash_key, {}).pop(range_key, None)
    else:
        table.items[hash_key][range_key] = item
