"""Take costs out of moto that are the emulator's, not the platform's (process-wide while installed).

moto's Step Functions interpreter parses a state machine's definition (an ANTLR grammar, then a tree of evaluation
components) for every execution it starts: about a fifth of the CPU of a document case through the local runtime,
more than any handler. ``cache_state_machine_programs`` parses each definition once and hands every execution the
same component tree. The tree is read-only while it runs - every execution keeps its state in its own
``Environment`` (stack, heap, Retry attempts by component key) - except for each component's heap key, a random id
drawn lazily on first use: two executions drawing it at once would each count Retry attempts under a different key.
The keys of a cached tree are drawn once, when it is parsed, before any execution sees it.

moto's DynamoDB ``Query`` on a table's own key (no index) sorts every item of the table and keeps those of the
partition asked for: a case's reads cost time in proportion to all the cases stored. ``query_partitions_directly``
hands that loop the partition's items alone, sorted the same way: the same results, in the same order, at the
cost of the partition.

Two more are paid on every call: moto's Step Functions interpreter builds a new JSONPath parser (PLY tables) for
every path it evaluates (``InputPath``, ``ResultPath``, each ``"key.$"`` of a Task's ``Parameters``), and moto's
request dispatch lists a response class's methods (``inspect.getmembers``) for every AWS call it answers.
``cache_jsonpath_parsing`` keeps each path's parsed expression (JSONPath expressions are not changed by ``find``)
and ``cache_dispatch_method_names`` each class's method names (classes do not gain actions while moto runs).

moto builds every stored item attribute by attribute, re-measuring the whole item at each one to enforce
DynamoDB's 400 KB limit (quadratic in the item's attributes: a case item has dozens). ``measure_items_once``
builds the item and measures it once: sizes are never negative, so the whole item is over moto's limit exactly when
one of the partial measurements was; the same ``ItemSizeTooLarge``, before the item is stored.

Every moto user pool imports the same bundled private key (the RSA key it signs tokens with, ``jwks-private.json``)
when it is created: about half a second each, for each of the template's pools at every start of the runtime.
``import_pool_keys_once`` hands every pool the key imported the first time (the same key, which signing only reads).
"""

from __future__ import annotations

import functools
import importlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any, Final

PROGRAM_CACHE_SIZE: Final = 64  # distinct definitions kept parsed (a template holds a handful)
ITEM_SIZE_LIMIT: Final = 405_000  # moto's LimitedSizeDict: DynamoDB's 400 KB, as moto measures it

_lock = threading.Lock()
_programs: OrderedDict[str, Any] = OrderedDict()
_originals: dict[str, Callable[..., Any]] = {}
_partition = threading.local()  # (table, hash key) while this thread runs a patched base-table Query
_JSONPATH_PARSERS: Final = (
    ("moto.stepfunctions.parser.asl.utils.json_path", "parse"),  # jsonpath_ng.ext.parse
    ("moto.stepfunctions.parser.asl.component.common.path.result_path", "parse"),  # jsonpath_ng.parse
)
_METHOD_NAMES: Final = ("moto.core.responses", "method_names_from_class")
_POOL_KEYS: Final = ("moto.cognitoidp.models", "jwk")  # joserfc's jwk, as moto's user pools import their key
_MODULE_GLOBALS: Final = (*_JSONPATH_PARSERS, _METHOD_NAMES, _POOL_KEYS)


def install() -> None:
    """Both speed-ups (idempotent)."""
    cache_state_machine_programs()
    query_partitions_directly()
    cache_jsonpath_parsing()
    cache_dispatch_method_names()
    measure_items_once()
    import_pool_keys_once()


def restore() -> None:
    """moto's own behaviour again (idempotent)."""
    from moto.dynamodb.models.table import Table
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    with _lock:
        if "entrypoint" in _originals:
            ExecutionWorker._get_evaluation_entrypoint = _originals.pop("entrypoint")  # type: ignore[method-assign]
        if "query" in _originals:
            Table.query = _originals.pop("query")  # type: ignore[method-assign]
            Table.all_items = _originals.pop("all_items")  # type: ignore[method-assign]
        if "item_init" in _originals:
            from moto.dynamodb.models.dynamo_type import Item

            Item.__init__ = _originals.pop("item_init")  # type: ignore[method-assign]
        for module, name in _MODULE_GLOBALS:
            original = _originals.pop(f"{module}.{name}", None)
            if original is not None:
                setattr(importlib.import_module(module), name, original)
        _programs.clear()


# -- Step Functions
def cache_state_machine_programs() -> None:
    """Executions of one definition share its parsed program (see the module's notes)."""
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    with _lock:
        if "entrypoint" in _originals:
            return
        _originals["entrypoint"] = ExecutionWorker._get_evaluation_entrypoint

    def _get_evaluation_entrypoint(worker: Any) -> Any:
        return parsed_program(worker._evaluation_details.state_machine_details.definition)

    ExecutionWorker._get_evaluation_entrypoint = _get_evaluation_entrypoint  # type: ignore[method-assign,assignment]


def parsed_program(definition: str) -> Any:
    """The evaluation tree of ``definition``, parsed on first use, its heap keys drawn (parse errors propagate)."""
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    with _lock:
        program = _programs.get(definition)
        if program is not None:
            _programs.move_to_end(definition)
            return program
    program = AmazonStateLanguageParser.parse(definition)[0]
    for component in _eval_components(program):
        _ = component.heap_key  # drawn now, by this thread alone
    with _lock:
        program = _programs.setdefault(definition, program)  # a racing parse of the same definition: keep one
        while len(_programs) > PROGRAM_CACHE_SIZE:
            _programs.popitem(last=False)
    return program


def _eval_components(root: Any) -> Iterator[Any]:
    """Every evaluation component reachable from ``root`` through attributes, lists, tuples and dicts."""
    from moto.stepfunctions.parser.asl.component.component import Component
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent

    seen: set[int] = set()
    pending: list[Any] = [root]
    while pending:
        value = pending.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, Component):
            if isinstance(value, EvalComponent):
                yield value
            pending.extend(vars(value).values())
        elif isinstance(value, list | tuple | set | frozenset):
            pending.extend(value)
        elif isinstance(value, dict):
            pending.extend(value.values())


# -- DynamoDB
def query_partitions_directly() -> None:
    """A Query on a table's own key reads its partition only (see the module's notes)."""
    from moto.dynamodb.models.table import Table

    with _lock:
        if "query" in _originals:
            return
        original_query = _originals["query"] = Table.query
        original_all_items = _originals["all_items"] = Table.all_items

    def query(table: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)
        if index_name or hash_key is None:
            return original_query(table, hash_key, *args, **kwargs)
        _partition.current = (table, hash_key)
        try:
            return original_query(table, hash_key, *args, **kwargs)
        finally:
            _partition.current = None

    def all_items(table: Any) -> Any:
        current = getattr(_partition, "current", None)
        if current is None or current[0] is not table:
            return original_all_items(table)
        hash_key = current[1]
        if hash_key not in table.items:  # not table.items[...]: a defaultdict would grow an empty partition
            return []
        partition = table.items[hash_key]
        items = list(partition.values()) if table.range_key_attr else [partition]
        return sorted(items, key=lambda item: (item.hash_key, item.range_key) if item.range_key else item.hash_key)

    Table.query = query  # type: ignore[method-assign,assignment]
    Table.all_items = all_items  # type: ignore[method-assign,assignment]


def measure_items_once() -> None:
    """A stored item is measured once, whole, against moto's size limit (see the module's notes)."""
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict

    with _lock:
        if "item_init" in _originals:
            return
        _originals["item_init"] = Item.__init__

    def __init__(item: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:  # noqa: N807 - moto's
        item.hash_key = hash_key
        item.range_key = range_key
        # dict.update, which LimitedSizeDict's constructor calls, stores without measuring each attribute
        item.attrs = LimitedSizeDict({key: DynamoType(value) for key, value in attrs.items()})
        if item.size() > ITEM_SIZE_LIMIT:
            raise ItemSizeTooLarge

    Item.__init__ = __init__  # type: ignore[method-assign,assignment]


# -- per-call caches
def cache_jsonpath_parsing() -> None:
    """Each JSONPath the interpreter evaluates is parsed once (see the module's notes)."""
    for module, name in _JSONPATH_PARSERS:
        _cache_module_function(module, name, maxsize=1024)


def cache_dispatch_method_names() -> None:
    """moto lists each response class's methods once (see the module's notes)."""
    _cache_module_function(*_METHOD_NAMES, maxsize=256)


# -- Cognito
def import_pool_keys_once() -> None:
    """moto's user pools share the signing key imported first (see the module's notes)."""
    module_name, name = _POOL_KEYS
    module = importlib.import_module(module_name)
    with _lock:
        if f"{module_name}.{name}" in _originals:
            return
        original = _originals[f"{module_name}.{name}"] = getattr(module, name)
    setattr(module, name, SimpleNamespace(RSAKey=_KeysImportedOnce(original.RSAKey)))


class _KeysImportedOnce:
    """joserfc's ``RSAKey`` whose ``import_key`` of a JWK (a mapping) keeps the key for the next import of the same."""

    def __init__(self, rsa_key: Any) -> None:
        self._rsa_key = rsa_key
        self._imported: dict[str, Any] = {}

    def import_key(self, value: Any, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs or not isinstance(value, dict):
            return self._rsa_key.import_key(value, *args, **kwargs)
        text = json.dumps(value, sort_keys=True)
        with _lock:
            key = self._imported.get(text)
        if key is None:
            imported = self._rsa_key.import_key(value)
            with _lock:
                key = self._imported.setdefault(text, imported)
        return key


def _cache_module_function(module_name: str, name: str, *, maxsize: int) -> None:
    module = importlib.import_module(module_name)
    key = f"{module_name}.{name}"
    with _lock:
        if key in _originals:
            return
        original = _originals[key] = getattr(module, name)
    setattr(module, name, functools.lru_cache(maxsize=maxsize)(original))
