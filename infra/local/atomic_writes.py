"""Give moto's DynamoDB the guarantee DynamoDB gives: a write evaluates its condition and applies itself as one step.

moto checks a ConditionExpression and then writes, in two Python steps that threads interleave: twenty concurrent
conditional UpdateItems on a counter with a cap overshoot it. The local runtime serves concurrent requests and runs
executions in threads, so it serialises moto's item writes behind one lock (reads are not affected). Without this,
the local platform would accept more bookings than a day's capacity, where AWS would not.

moto's TransactWriteItems deep-copies every table it touches before writing, to roll back on failure: every case
save (a transaction) cost time in proportion to the whole table (~30 ms at a few hundred cases, seconds at 100,000).
Under the same lock, the patched transaction copies only the items it names and puts them back if it fails: the same
all-or-nothing outcome at the cost of the items written.

moto answers every DynamoDB call through a generic, model-driven response serializer that walks each attribute
value against botocore's shapes (~15 ms for one 2 KB case item). Item operations answer plain JSON built from
moto's own result instead (binary values base64-encoded, as the serializer does): the same bytes on the wire.
"""

from __future__ import annotations

import base64
import copy
import functools
import json
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any

# Reads too: a Query iterating a table while a write changes it fails in moto ("changed size during iteration").
_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "get_item", "query")
_lock = threading.RLock()
_originals: dict[str, Callable[..., Any]] = {}
_in_transaction = threading.local()  # set while this thread runs the patched TransactWriteItems
# Operations whose successful result is DynamoDB JSON already: items, keys, counts, consumed capacity.
_JSON_RESULTS = frozenset(
    {
        "GetItem",
        "BatchGetItem",
        "Query",
        "Scan",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    }
)
_original_serialized: list[Callable[..., Any]] = []


class _CopyWithoutTables(ModuleType):
    """Stands for the ``copy`` module inside ``moto.dynamodb.models``: while the current thread runs a patched
    transaction, ``deepcopy(table)`` hands back the table itself (the items it names were saved beforehand)."""

    def __init__(self) -> None:
        super().__init__("copy")
        self.copy = copy.copy

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        from moto.dynamodb.models.table import Table

        if getattr(_in_transaction, "active", False) and isinstance(value, Table):
            return value
        return copy.deepcopy(value, memo)


def make_dynamodb_writes_atomic() -> None:
    """Patch moto's DynamoDB backend so each item write runs alone (idempotent)."""
    from moto.dynamodb.models import DynamoDBBackend

    if _originals:
        return
    for name in _WRITES:
        original = getattr(DynamoDBBackend, name)
        _originals[name] = original
        patched = _with_item_rollback(original) if name == "transact_write_items" else original

        @functools.wraps(original)
        def atomic(self: Any, *args: Any, __patched: Callable[..., Any] = patched, **kwargs: Any) -> Any:
            with _lock:
                return __patched(self, *args, **kwargs)

        setattr(DynamoDBBackend, name, atomic)
    _moto_models().copy = _CopyWithoutTables()
    _answer_items_as_json()


def restore_dynamodb_writes() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    for name, original in _originals.items():
        setattr(DynamoDBBackend, name, original)
    _originals.clear()
    if isinstance(_moto_models().copy, _CopyWithoutTables):
        _moto_models().copy = copy
    if _original_serialized:
        from moto.dynamodb.responses import DynamoHandler

        DynamoHandler.serialized = _original_serialized.pop()  # type: ignore[method-assign]


def _answer_items_as_json() -> None:
    """Serialise the successful results of item operations with ``json.dumps`` (see the module's notes)."""
    from moto.dynamodb.responses import DynamoHandler

    if _original_serialized:
        return
    original: Callable[..., Any] = DynamoHandler.serialized
    _original_serialized.append(original)

    def serialized(handler: Any, action_result: Any) -> Any:
        result = action_result.result
        if isinstance(result, dict) and handler._get_action() in _JSON_RESULTS:
            try:
                body = json.dumps(result, default=_base64)
            except (TypeError, ValueError):
                pass  # something else than DynamoDB JSON: moto's serializer knows
            else:
                headers = {"Content-Type": "application/x-amz-json-1.0", **handler.response_headers}
                return 200, headers, body
        return original(handler, action_result)

    DynamoHandler.serialized = serialized  # type: ignore[method-assign,assignment]


def _base64(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not DynamoDB JSON")


def _with_item_rollback(transact_write_items: Callable[..., Any]) -> Callable[..., Any]:
    """moto's TransactWriteItems, rolled back item by item: the items it names are saved first, moto's copy of each
    whole table is skipped, and on any failure the saved items are put back (and the ones it created removed)."""

    def transaction(backend: Any, transact_items: list[dict[str, Any]], *args: Any, **kwargs: Any) -> Any:
        saved = _save_items(backend, transact_items)
        _in_transaction.active = True
        try:
            return transact_write_items(backend, transact_items, *args, **kwargs)
        except BaseException:
            for table, hash_key, range_key, item in reversed(saved):
                if item is None:
                    table.delete_item(hash_key, range_key)
                else:
                    table.put_item(item.to_json()["Attributes"], overwrite=True)
            raise
        finally:
            _in_transaction.active = False

    return transaction


def _save_items(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any, Any]]:
    """(table, hash key, range key, a copy of the item or None) for each item the transaction names; items moto will
    refuse (unknown table, key missing) are skipped: nothing is written for them."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    saved: list[tuple[Any, Any, Any, Any]] = []
    seen: set[tuple[str, str]] = set()
    for entry in transact_items:
        if not isinstance(entry, dict) or len(entry) != 1:
            continue
        operation, request = next(iter(entry.items()))
        table = backend.tables.get(request.get("TableName")) if isinstance(request, dict) else None
        if table is None:
            continue
        key = request.get("Item" if operation == "Put" else "Key") or {}
        names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
        if not all(name in key for name in names):
            continue
        identity = (table.name, repr([key[name] for name in names]))
        if identity in seen:
            continue
        seen.add(identity)
        hash_key = DynamoType(key[table.hash_key_attr])
        range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        current = table.get_item(hash_key, range_key)
        saved.append((table, hash_key, range_key, copy.deepcopy(current) if current is not None else None))
    return saved


def _moto_models() -> Any:
    import moto.dynamodb.models

    return moto.dynamodb.models
