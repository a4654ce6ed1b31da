"""Give moto's DynamoDB the guarantee DynamoDB gives: a write evaluates its condition and applies itself as one step.

moto checks a ConditionExpression and then writes, in two Python steps that threads interleave: twenty concurrent
conditional UpdateItems on a counter with a cap overshoot it. The local runtime serves concurrent requests and runs
executions in threads, so it serialises moto's item writes behind one lock (reads are not affected). Without this,
the local platform would accept more bookings than a day's capacity, where AWS would not.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

# Reads too: a Query iterating a table while a write changes it fails in moto ("changed size during iteration").
_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "get_item", "query")
_lock = threading.RLock()
_originals: dict[str, Callable[..., Any]] = {}


def make_dynamodb_writes_atomic() -> None:
    """Patch moto's DynamoDB backend so each item write runs alone (idempotent)."""
    from moto.dynamodb.models import DynamoDBBackend

    if _originals:
        return
    for name in _WRITES:
        original = getattr(DynamoDBBackend, name)
        _originals[name] = original

        @functools.wraps(original)
        def atomic(self: Any, *args: Any, __original: Callable[..., Any] = original, **kwargs: Any) -> Any:
            with _lock:
                return __original(self, *args, **kwargs)

        setattr(DynamoDBBackend, name, atomic)


def restore_dynamodb_writes() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    for name, original in _originals.items():
        setattr(DynamoDBBackend, name, original)
    _originals.clear()
