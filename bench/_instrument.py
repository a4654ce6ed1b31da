"""Counting what the platform asks of AWS while the local runtime runs: botocore calls, Lambda invocations, API
requests, DynamoDB capacity units and the telemetry written to stdout.

- :class:`AwsRecorder` registers ``before-parameter-build`` / ``after-call`` hooks on every botocore client created
  while it is installed (the layer's clients in ``omnicity.aws``, the handlers', moto's interpreter's): moto
  in-process intercepts the same calls AWS would receive. The bench's own calls (polling, checks) run inside
  :meth:`AwsRecorder.excluded` and are not counted; the platform's calls made from other threads (the state machine
  executions) are.
- :class:`RuntimeRecorder` wraps one started runtime's Lambda bridge and gateway: invocations by function with their
  duration and configured memory, and API requests (the template's routes, not the local-only ``/local/*``).
- :func:`dynamodb_units` prices one recorded DynamoDB call in read and write request units from the items' sizes,
  as DynamoDB bills them (moto's ``ReturnConsumedCapacity`` answers a constant 1.0 whatever the item).
- :func:`quiet_telemetry` sends stdout (Powertools logs and EMF metrics) to a counter instead of the terminal.
"""

from __future__ import annotations

import io
import json
import logging
import math
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from infra.local.runtime import LocalRuntime, wait_for_execution
from infra.local.template import ACCOUNT_ID

ROOT: Final = Path(__file__).resolve().parent.parent
TEMPLATE: Final = ROOT / "template.yaml"
ELISE: Final = "87031413235"  # fictional, in the simulated register, clean criminal record (tests/conftest.py)
PIETER: Final = "79051708730"  # fictional, Dutch-speaking, with an active eID
HUGO: Final = "72030324138"  # fictional; his criminal record holds entries (his extracts wait for an agent)
KB: Final = 1024
READ_UNIT_BYTES: Final = 4 * KB
WRITE_UNIT_BYTES: Final = 1 * KB
_WRITES: Final = frozenset({"PutItem", "UpdateItem", "DeleteItem"})
_MULTI_WRITES: Final = frozenset({"TransactWriteItems", "BatchWriteItem"})
_ITEM_OPERATIONS: Final = _WRITES | _MULTI_WRITES | {"GetItem", "BatchGetItem"}


@dataclass
class AwsCall:
    """One botocore call: service (``dynamodb``), operation (``Query``), the API parameters and the parsed reply;
    ``before`` and ``after`` hold, for DynamoDB item operations, the stored items the call names (one per key, in
    the request's order; None where there is none) before and after it ran."""

    service: str
    operation: str
    params: dict[str, Any]
    response: dict[str, Any]
    before: list[ItemImage | None] = field(default_factory=list)
    after: list[ItemImage | None] = field(default_factory=list)

    @property
    def error(self) -> str:
        return str(self.response.get("Error", {}).get("Code", ""))


@dataclass(frozen=True)
class ItemImage:
    """A DynamoDB item as stored: its table, size in bytes (DynamoDB's rule: names plus values) and, per global
    secondary index, its key values there (None when the item is not in that index)."""

    table: str
    size: int
    index_keys: Mapping[str, tuple[str, ...] | None]


class AwsRecorder:
    """Records the botocore calls of every client created while installed (see the module's notes)."""

    def __init__(self, runtime: LocalRuntime) -> None:
        self._runtime = runtime
        self._calls: list[AwsCall] = []
        self._lock = threading.Lock()
        self._local = threading.local()
        self._recording = False
        self._original_create_client: Callable[..., Any] | None = None
        self._indexes: dict[str, dict[str, tuple[str, ...]]] = {}
        for table in runtime.description.tables.values():
            self._indexes[table.name] = {
                index["IndexName"]: tuple(key["AttributeName"] for key in index["KeySchema"])
                for index in table.properties.get("GlobalSecondaryIndexes", [])
            }

    # -- lifecycle
    def install(self) -> None:
        """Hook every botocore client created from now on (call before the clients are made: ``aws.reset_clients``)."""
        import botocore.session

        if self._original_create_client is not None:
            return
        original: Callable[..., Any] = botocore.session.Session.create_client
        recorder = self

        def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
            client = original(session, *args, **kwargs)
            client.meta.events.register("before-parameter-build", recorder._before)
            client.meta.events.register("after-call", recorder._after)
            return client

        botocore.session.Session.create_client = create_client  # type: ignore[method-assign]
        self._original_create_client = original

    def uninstall(self) -> None:
        import botocore.session

        if self._original_create_client is not None:
            botocore.session.Session.create_client = self._original_create_client  # type: ignore[method-assign]
            self._original_create_client = None

    @contextmanager
    def recording(self) -> Iterator[list[AwsCall]]:
        """Record the calls made inside the block (from every thread but excluded ones); yields the list, filled
        as calls complete."""
        with self._lock:
            self._calls = []
            self._recording = True
        try:
            yield self._calls
        finally:
            with self._lock:
                self._recording = False

    @contextmanager
    def excluded(self) -> Iterator[None]:
        """Calls made by this thread inside the block are the bench's, not the platform's: not recorded."""
        previous = getattr(self._local, "excluded", False)
        self._local.excluded = True
        try:
            yield
        finally:
            self._local.excluded = previous

    @property
    def is_excluded(self) -> bool:
        return bool(getattr(self._local, "excluded", False))

    # -- hooks
    def _counting(self) -> bool:
        return self._recording and not self.is_excluded

    def _before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if not self._counting():
            return
        context["bench_params"] = dict(params)
        service = model.service_model.service_name
        if service == "dynamodb" and model.name in _WRITES | _MULTI_WRITES:
            context["bench_before"] = self._images(model.name, params)

    def _after(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if "bench_params" not in context:
            return
        service = model.service_model.service_name
        params = context["bench_params"]
        call = AwsCall(service, model.name, params, parsed, before=context.get("bench_before", []))
        if service == "dynamodb" and model.name in _ITEM_OPERATIONS:
            call.after = self._images(model.name, params)
        with self._lock:
            self._calls.append(call)

    # -- what moto holds (the runtime runs in-process)
    def _images(self, operation: str, params: Mapping[str, Any]) -> list[ItemImage | None]:
        """The stored items an operation names (before or after it runs), in the request's order."""
        keys: list[tuple[str, Mapping[str, Any]]] = []
        if operation in ("PutItem", "UpdateItem", "DeleteItem", "GetItem"):
            key = params.get("Key") or params.get("Item") or {}
            keys.append((str(params.get("TableName", "")), key))
        elif operation == "TransactWriteItems":
            for entry in params.get("TransactItems", []):
                for kind, request in entry.items():
                    keys.append((request["TableName"], request.get("Item" if kind == "Put" else "Key", {})))
        elif operation == "BatchWriteItem":
            for table, requests in params.get("RequestItems", {}).items():
                for request in requests:
                    if "PutRequest" in request:
                        keys.append((table, request["PutRequest"]["Item"]))
                    else:
                        keys.append((table, request["DeleteRequest"]["Key"]))
        elif operation == "BatchGetItem":
            for table, request in params.get("RequestItems", {}).items():
                keys.extend((table, key) for key in request.get("Keys", []))
        return [self._image(table, key) for table, key in keys]

    def _image(self, table_name: str, key: Mapping[str, Any]) -> ItemImage | None:
        from moto.dynamodb.models import dynamodb_backends
        from moto.dynamodb.models.dynamo_type import DynamoType

        backend = dynamodb_backends[ACCOUNT_ID][self._runtime.region]
        table = backend.tables.get(table_name)
        if table is None or table.hash_key_attr not in key:
            return None
        range_key = None
        if table.range_key_attr is not None:
            if table.range_key_attr not in key:
                return None
            range_key = DynamoType(key[table.range_key_attr])
        item = table.get_item(DynamoType(key[table.hash_key_attr]), range_key)
        if item is None:
            return None
        index_keys: dict[str, tuple[str, ...] | None] = {}
        for index, attributes in self._indexes.get(table_name, {}).items():
            values = [item.attrs[attribute].value for attribute in attributes if attribute in item.attrs]
            index_keys[index] = tuple(str(value) for value in values) if len(values) == len(attributes) else None
        return ItemImage(table_name, int(item.size()), index_keys)


@dataclass(frozen=True)
class Invocation:
    """One Lambda invocation through the bridge: function, duration (s) and configured memory (MB)."""

    function: str
    seconds: float
    memory_mb: int


class RuntimeRecorder:
    """Counts Lambda invocations (with duration and memory) and API requests on one started runtime.

    ``on_return(function, event, seconds)`` callbacks run after every invocation (the throughput bench uses it to
    know when a case's last step has run without polling)."""

    def __init__(self, runtime: LocalRuntime, aws: AwsRecorder | None = None) -> None:
        self._runtime = runtime
        self._aws = aws
        self._lock = threading.Lock()
        self.invocations: list[Invocation] = []
        self.api_requests: list[str] = []
        self.recording = False
        self.on_return: list[Callable[[str, Any, float], None]] = []
        self._bridge = runtime.bridge
        self._gateway = runtime.gateway
        self._memory = {logical_id: spec.memory_size for logical_id, spec in self._bridge.functions.items()}

    def install(self) -> None:
        bridge_invoke = self._bridge.invoke_function
        gateway_dispatch = self._gateway.dispatch

        def invoke_function(logical_id: str, event: Any) -> Any:
            started = time.perf_counter()
            try:
                return bridge_invoke(logical_id, event)
            finally:
                seconds = time.perf_counter() - started
                if self._counting():
                    with self._lock:
                        self.invocations.append(Invocation(logical_id, seconds, self._memory[logical_id]))
                for callback in self.on_return:
                    callback(logical_id, event, seconds)

        def dispatch(method: str, path: str, *args: Any, **kwargs: Any) -> Any:
            if self._counting() and not path.startswith("/local/"):
                with self._lock:
                    self.api_requests.append(f"{method.upper()} {path}")
            return gateway_dispatch(method, path, *args, **kwargs)

        self._bridge.invoke_function = invoke_function  # type: ignore[method-assign]
        self._gateway.dispatch = dispatch  # type: ignore[method-assign]

    def uninstall(self) -> None:
        for target, name in ((self._bridge, "invoke_function"), (self._gateway, "dispatch")):
            if name in vars(target):
                delattr(target, name)

    def _counting(self) -> bool:
        return self.recording and not (self._aws is not None and self._aws.is_excluded)

    def reset(self) -> None:
        with self._lock:
            self.invocations = []
            self.api_requests = []


@dataclass(frozen=True)
class Units:
    """DynamoDB request units of one or several calls."""

    read: float = 0.0
    write: float = 0.0

    def __add__(self, other: Units) -> Units:
        return Units(self.read + other.read, self.write + other.write)


def _write_units(size: int) -> int:
    return max(1, math.ceil(size / WRITE_UNIT_BYTES))


def _read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    return float(units) if consistent else units / 2


def _index_writes(before: ItemImage | None, after: ItemImage | None) -> int:
    """Write units a change costs in the global secondary indexes (all project ALL): a put of the new image where
    it has the index's keys, plus a delete of the old one where those keys changed or went away."""
    units = 0
    indexes = set((before.index_keys if before else {}).keys()) | set((after.index_keys if after else {}).keys())
    for index in indexes:
        old = before.index_keys.get(index) if before else None
        new = after.index_keys.get(index) if after else None
        if new is not None:
            units += _write_units(after.size if after else 0)
        if old is not None and old != new:
            units += _write_units(before.size if before else 0)
    return units


def dynamodb_units(call: AwsCall) -> Units:
    """Request units one DynamoDB call is billed (on-demand): 1 WRU per KB written (the larger of the item before
    and after), transactions twice, plus the index writes; 1 RRU per 4 KB read strongly consistent, half when
    eventually consistent (every GSI read), the items a Query evaluated summed before rounding."""
    if call.service != "dynamodb":
        return Units()
    if call.operation in _WRITES | _MULTI_WRITES:
        factor = 2 if call.operation == "TransactWriteItems" else 1
        units = 0
        for old, new in zip(call.before, call.after, strict=False):
            size = max(old.size if old else 0, new.size if new else 0)
            units += factor * _write_units(size)
            if not call.error:  # a refused write costs its unit, and changes no index
                units += _index_writes(old, new)
        return Units(write=units)
    return Units(read=_reads(call))


def _reads(call: AwsCall) -> float:
    operation, params, response = call.operation, call.params, call.response
    if operation == "GetItem":
        found = call.after[0] if call.after else None
        return _read_units(found.size if found else 0, bool(params.get("ConsistentRead")))
    if operation == "BatchGetItem":
        strong = {table: bool(request.get("ConsistentRead")) for table, request in params["RequestItems"].items()}
        return sum(_read_units(image.size, strong.get(image.table, False)) for image in call.after if image)
    if operation not in ("Query", "Scan"):
        return 0.0
    items = response.get("Items", [])
    scanned = int(response.get("ScannedCount", len(items)))
    sizes = [_wire_size(item) for item in items]
    average = sum(sizes) / len(sizes) if sizes else 0.0
    total = sum(sizes) + max(0, scanned - len(items)) * average  # filtered-out items were read too
    return _read_units(int(total), bool(params.get("ConsistentRead")) and "IndexName" not in params)


def _wire_size(value: Any, name: str = "") -> int:
    """DynamoDB's size of an item or attribute in the wire format ({"S": ...}): names plus values."""
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in _TYPES:
        kind, content = next(iter(value.items()))
        return len(name.encode()) + _value_size(kind, content)
    return sum(_wire_size(attribute, key) for key, attribute in value.items())


_TYPES: Final = frozenset({"S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"})


def _value_size(kind: str, content: Any) -> int:
    """Bytes of one value: strings as UTF-8, numbers about a byte per two digits, binaries raw, 1 for a boolean or
    null, 3 plus 1 per element for maps and lists; sets as the sum of their members."""
    scalar: dict[str, Callable[[Any], int]] = {
        "S": lambda text: len(str(text).encode()),
        "N": lambda number: len(str(number).strip("-").replace(".", "")) // 2 + 1,
        "B": lambda blob: len(blob) if isinstance(blob, bytes | bytearray) else len(str(blob)),
        "BOOL": lambda _: 1,
        "NULL": lambda _: 1,
    }
    if kind in scalar:
        return scalar[kind](content)
    if kind == "M":
        return 3 + sum(_wire_size(attribute, key) + 1 for key, attribute in content.items())
    if kind == "L":
        return 3 + sum(_wire_size(element) + 1 for element in content)
    return sum(scalar[kind[0]](element) for element in content)


@dataclass
class TelemetrySink(io.TextIOBase):
    """A stdout that counts what is written (bytes, lines) and keeps nothing."""

    bytes_written: int = 0
    lines: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def write(self, text: str) -> int:
        with self._lock:
            self.bytes_written += len(text.encode("utf-8", "replace"))
            self.lines += text.count("\n")
        return len(text)

    def writable(self) -> bool:
        return True


@contextmanager
def quiet_telemetry() -> Iterator[TelemetrySink]:
    """Powertools logs and EMF metrics (stdout, as on Lambda) go to a counting sink instead of the terminal."""
    sink = TelemetrySink()
    previous = sys.stdout
    handlers = [handler for handler in _omnicity_handlers() if isinstance(handler, logging.StreamHandler)]
    streams = [handler.stream for handler in handlers]
    sys.stdout = sink
    for handler in handlers:
        handler.setStream(sink)
    try:
        yield sink
    finally:
        sys.stdout = previous
        for handler, stream in zip(handlers, streams, strict=True):
            handler.setStream(stream)


def silence_new_handlers(sink: TelemetrySink) -> None:
    """Point the Powertools logger's handlers (created when the handlers were first loaded) at ``sink``."""
    for handler in _omnicity_handlers():
        if isinstance(handler, logging.StreamHandler) and handler.stream is not sink:
            handler.setStream(sink)


def _omnicity_handlers() -> Sequence[logging.Handler]:
    return [handler for name in ("omnicity",) for handler in logging.getLogger(name).handlers]


# ---------------------------------------------------------------------------------------------------- the runtime
@contextmanager
def local_runtime(parameters: Mapping[str, str] | None = None) -> Iterator[LocalRuntime]:
    """The template on the in-process local runtime, no schedule timer, with fresh AWS clients and settings."""
    from omnicity import aws
    from omnicity.config import load_settings

    aws.reset_clients()
    load_settings.cache_clear()
    try:
        with warnings.catch_warnings():
            # Powertools warns on every flush of a function that published no metric (most steps)
            warnings.filterwarnings("ignore", message="No application metrics to publish")
            with LocalRuntime(TEMPLATE, mode="inprocess", parameters=parameters, schedule_interval=0) as runtime:
                yield runtime
    finally:
        aws.reset_clients()
        load_settings.cache_clear()


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class Client:
    """Talks to the runtime's API Gateway emulation as the portal, a kiosk, the counter or an agent's desk does."""

    def __init__(self, runtime: LocalRuntime) -> None:
        self.runtime = runtime

    def request(self, method: str, path: str, *, token: str | None = None, body: Any = None, query: str = "") -> Reply:
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        payload = json.dumps(body).encode() if body is not None else None
        status, _, reply = self.runtime.gateway.dispatch(method, path, query, headers, payload)
        return Reply(status, reply)

    def token(self, sub: str, *, role: str = "citizen", client: str = "portal", departments: Sequence[str] = ()) -> str:
        reply = self.request(
            "POST", "/local/token", body={"role": role, "sub": sub, "client": client, "departments": list(departments)}
        )
        if reply.status != 200:
            raise RuntimeError(f"no local token for {sub}: {reply.body!r}")
        return str(reply.json["access_token"])

    def submit(self, token: str, procedure_id: str, form: Mapping[str, Any], language: str = "fr") -> str:
        """POST /v1/cases; the new case's id (anything but a 201 is an error of the bench)."""
        body = {"procedure_id": procedure_id, "language": language, "form": dict(form)}
        reply = self.request("POST", "/v1/cases", token=token, body=body)
        if reply.status != 201:
            raise RuntimeError(f"{procedure_id} refused: {reply.status} {reply.body!r}")
        return str(reply.json["case_id"])

    def case(self, case_id: str, token: str) -> dict[str, Any]:
        reply = self.request("GET", f"/v1/cases/{case_id}", token=token)
        if reply.status != 200:
            raise RuntimeError(f"case {case_id}: {reply.status} {reply.body!r}")
        return dict(reply.json)

    def wait_for_status(self, case_id: str, token: str, statuses: Sequence[str], timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            case = self.case(case_id, token)
            if case["status"] in statuses:
                return case
            if time.monotonic() > deadline:
                raise TimeoutError(f"case {case_id} still {case['status']} after {timeout} s")
            time.sleep(0.01)

    def execution_arn(self, case_id: str) -> str:
        """The ARN of the case's execution (named after the case, in its family's state machine)."""
        import boto3

        stepfunctions = boto3.client("stepfunctions")
        for machine in self.runtime.description.state_machines.values():
            arn = machine.arn.replace(":stateMachine:", ":execution:") + f":{case_id}"
            try:
                stepfunctions.describe_execution(executionArn=arn)
            except stepfunctions.exceptions.ExecutionDoesNotExist:
                continue
            return arn
        raise LookupError(f"no execution for case {case_id}")

    def wait_for_execution(self, case_id: str, timeout: float = 30) -> dict[str, Any]:
        return wait_for_execution(self.execution_arn(case_id), timeout=timeout)


def print_section(section: Any) -> None:
    """``python -m bench.<module>``: one section as plain text."""
    from bench.report import shortfall, with_unit

    print(f"## {section.title}\n\n{section.method}\n")
    for figure in section.figures:
        verdict = "" if figure.holds is None else (" - holds" if figure.holds else " - MISSED")
        target = f" (target {figure.target}{verdict})" if figure.target else ""
        gap = shortfall(figure)
        print(f"- {figure.name}: {with_unit(figure.value, figure.unit)}{target}{'; ' + gap if gap else ''}")
        if figure.note:
            print(f"    {figure.note}")
    for line in [*section.remarks, *getattr(section, "details", [])]:
        print(f"\n{line}")
