"""Run the template's Lambda handlers in-process.

Every function folder holds an ``app.py``: each handler file is loaded under its own module name
(``omnicity_local_functions.<LogicalId>``), lazily on first invoke and cached, so one process never confuses two
functions. ``install_lambda_bridge`` replaces moto's docker-less ``LambdaSimpleBackend.invoke`` (which only echoes its
payload) so that moto's Step Functions interpreter, invoking a Task's plain function ARN through the Lambda API, runs
the real handler. A handler that raises answers the way Lambda does: header ``x-amz-function-error: Unhandled`` and
``{"errorType": <exception class name>, "errorMessage": ..., "stackTrace": [...]}``, which the interpreter turns into
the error name ASL Retry/Catch match.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Final

from moto.awslambda_simple.models import LambdaSimpleBackend

from infra.local.template import FunctionSpec

MODULE_PREFIX: Final = "omnicity_local_functions"

logger = logging.getLogger(__name__)

Handler = Callable[[Any, Any], Any]


class BridgeError(RuntimeError):
    """A function cannot be loaded or invoked locally (unknown function, missing file, several modules...)."""


@dataclass
class LambdaContext:
    """The context object Lambda hands a handler, with the attributes Powertools reads."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_seconds: int
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = ""
    identity: Any = None
    client_context: Any = None
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        if not self.log_group_name:
            self.log_group_name = f"/aws/lambda/{self.function_name}"
        if not self.log_stream_name:
            self.log_stream_name = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}"
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's configured timeout."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))

    @classmethod
    def for_function(cls, spec: FunctionSpec) -> LambdaContext:
        """A fresh context (new request id, full timeout) for one invocation of ``spec``."""
        return cls(
            function_name=spec.name,
            invoked_function_arn=spec.arn,
            memory_limit_in_mb=spec.memory_size,
            timeout_seconds=spec.timeout,
        )


@dataclass(frozen=True)
class InvocationResult:
    """What an invocation produced, serialized the way the Lambda Invoke API returns it."""

    payload: bytes
    function_error: str | None


class LambdaBridge:
    """The template's functions, runnable in-process by logical id, name or ARN."""

    def __init__(self, functions: Iterable[FunctionSpec]) -> None:
        self._functions: dict[str, FunctionSpec] = {spec.logical_id: spec for spec in functions}
        self._by_name: dict[str, str] = {spec.name: spec.logical_id for spec in self._functions.values()}
        self._by_name.update({spec.arn: spec.logical_id for spec in self._functions.values()})
        self._handlers: dict[str, Handler] = {}
        self._lock = threading.Lock()
        self._invocation_locks = {logical_id: threading.Lock() for logical_id in self._functions}
        self._original_invoke: Callable[..., Any] | None = None
        # Invocations running now (any thread), and whether new ones are refused: see drain()
        self._activity = threading.Condition()
        self._running: dict[str, int] = {}
        self._closing = False

    @property
    def functions(self) -> Mapping[str, FunctionSpec]:
        """The functions this bridge runs, by logical id."""
        return self._functions

    def logical_id_for(self, function_name: str) -> str | None:
        """The logical id behind a function name, ARN (``...:function:Name[:qualifier]``) or logical id."""
        if function_name in self._functions:
            return function_name
        if function_name in self._by_name:
            return self._by_name[function_name]
        if ":function:" in function_name:
            name = function_name.split(":function:", 1)[1].split(":", 1)[0]
            return self._by_name.get(name)
        return None

    def handler(self, logical_id: str) -> Handler:
        """The handler function of ``logical_id``, loading its module on first use (thread-safe, cached)."""
        handler = self._handlers.get(logical_id)
        if handler is not None:
            return handler
        with self._lock:
            handler = self._handlers.get(logical_id)
            if handler is None:
                handler = self._load(logical_id)
                self._handlers[logical_id] = handler
        return handler

    @contextmanager
    def handler_replaced(self, logical_id: str, wrap: Callable[[Handler], Handler]) -> Iterator[None]:
        """Inside the block, every invocation of ``logical_id`` (from a state machine, the API front or a schedule)
        runs ``wrap(handler)`` instead of its handler: how tests inject faults (a step that raises, a slow one).
        The real handler is back when the block ends."""
        original = self.handler(logical_id)
        with self._lock:
            self._handlers[logical_id] = wrap(original)
        try:
            yield
        finally:
            with self._lock:
                self._handlers[logical_id] = original

    def invoke_function(self, logical_id: str, event: Any) -> Any:
        """Call the handler of ``logical_id`` with ``event`` and a fresh context; its exceptions propagate.

        One invocation at a time per function, as in one Lambda execution environment: handler modules keep
        per-request state at module level (the Powertools resolver's current event, Logger keys, Metrics), so two
        requests running one module's handler at once would mix (a 201 answered 200, or worse, one caller's claims
        seen by another). Different functions still run concurrently.
        """
        spec = self._spec(logical_id)
        handler = self.handler(logical_id)
        with self._activity:
            if self._closing:
                raise BridgeError(f"{logical_id}: the local runtime is stopping, no new invocation")
            self._running[logical_id] = self._running.get(logical_id, 0) + 1
        try:
            with self._invocation_locks[logical_id]:
                return handler(event, LambdaContext.for_function(spec))
        finally:
            with self._activity:
                self._running[logical_id] -= 1
                self._activity.notify_all()

    def drain(self, timeout: float) -> list[str]:
        """Refuse new invocations, then wait up to ``timeout`` seconds for the running ones to end; the functions
        still running then (none: drained).

        A runtime stops by taking moto and its environment away: a handler still at work on another thread (a state
        machine's step, an asynchronous invocation, a request of the HTTP front) would then send its next call to AWS
        itself. Draining first lets it finish against the local services, and the next caller (a state machine going
        on) gets a refusal instead of a half-torn platform."""
        deadline = time.monotonic() + timeout
        with self._activity:
            self._closing = True
            while any(self._running.values()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._activity.wait(remaining)
            return sorted(logical_id for logical_id, count in self._running.items() if count)

    def invoke_payload(self, logical_id: str, payload: bytes | str | None) -> InvocationResult:
        """Invoke with a JSON payload as the Lambda API does: errors become an Unhandled function error."""
        try:
            event = json.loads(payload) if payload else {}
        except (ValueError, UnicodeDecodeError) as exc:
            return _error_result("InvalidRequestContentException", f"could not parse request body into json: {exc}")
        try:
            result = self.invoke_function(logical_id, event)
        except Exception as exc:  # every handler failure becomes Lambda's Unhandled reply
            logger.warning("function %s raised %s: %s", logical_id, type(exc).__name__, exc)
            return _error_result(type(exc).__name__, str(exc), traceback.format_tb(exc.__traceback__))
        try:
            return InvocationResult(json.dumps(result).encode("utf-8"), None)
        except (TypeError, ValueError) as exc:
            return _error_result("Runtime.MarshalError", f"Unable to marshal response: {exc}")

    # -- moto patch
    def install(self) -> None:
        """Replace ``LambdaSimpleBackend.invoke`` so Lambda invokes of this bridge's functions run in-process."""
        if self._original_invoke is not None:
            raise BridgeError("this bridge is already installed")
        original: Callable[..., Any] = LambdaSimpleBackend.invoke
        bridge = self

        def invoke(
            backend: LambdaSimpleBackend,
            function_name: str,
            qualifier: str | None,
            body: Any,
            headers: Any,
            response_headers: Any,
        ) -> str | bytes | None:
            logical_id = bridge.logical_id_for(function_name)
            if logical_id is None:
                echoed: str | bytes | None = original(
                    backend, function_name, qualifier, body, headers, response_headers
                )
                return echoed
            invocation_type = (headers or {}).get("X-Amz-Invocation-Type", "RequestResponse")
            if invocation_type == "DryRun":
                return b""
            if invocation_type == "Event":
                threading.Thread(target=bridge.invoke_payload, args=(logical_id, body), daemon=True).start()
                return b""
            result = bridge.invoke_payload(logical_id, body)
            if result.function_error is not None:
                response_headers["x-amz-function-error"] = result.function_error
            response_headers["x-amz-executed-version"] = "$LATEST"
            return result.payload

        LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign,assignment]
        self._original_invoke = original
        _reuse_interpreter_lambda_clients()

    def uninstall(self) -> None:
        """Put moto's own ``LambdaSimpleBackend.invoke`` back."""
        if self._original_invoke is None:
            return
        LambdaSimpleBackend.invoke = self._original_invoke  # type: ignore[method-assign]
        self._original_invoke = None
        _restore_interpreter_lambda_clients()

    # -- internals
    def _spec(self, logical_id: str) -> FunctionSpec:
        try:
            return self._functions[logical_id]
        except KeyError as exc:
            raise BridgeError(f"unknown function {logical_id!r}") from exc

    def _load(self, logical_id: str) -> Handler:
        spec = self._spec(logical_id)
        source = spec.source_file
        if not source.is_file():
            raise BridgeError(f"{logical_id}: handler file {source} does not exist")
        others = sorted(
            path.name for path in spec.code_dir.glob("*.py") if path != source and path.name != "__init__.py"
        )
        if others:
            raise BridgeError(
                f"{logical_id}: {spec.code_dir} holds other modules besides {source.name} ({', '.join(others)}); "
                "in one process same-named modules of different functions would collide: move shared code to the layer"
            )
        module_name = f"{MODULE_PREFIX}.{logical_id}"
        module = _load_module(module_name, source)
        handler = getattr(module, spec.function_attribute, None)
        if not callable(handler):
            raise BridgeError(f"{logical_id}: {source} has no callable {spec.function_attribute!r}")
        return handler  # type: ignore[no-any-return]


def _load_module(module_name: str, source: Any) -> ModuleType:
    if MODULE_PREFIX not in sys.modules:
        package = ModuleType(MODULE_PREFIX)
        package.__path__ = []
        sys.modules[MODULE_PREFIX] = package
    module_spec = importlib.util.spec_from_file_location(module_name, source)
    if module_spec is None or module_spec.loader is None:
        raise BridgeError(f"cannot load {source}")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_name] = module  # before exec: dataclasses and pydantic look their module up here
    try:
        module_spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


class _InterpreterClients:
    """moto's Step Functions interpreter builds a new boto3 Lambda client for every Task it runs (~10 ms of CPU
    each, a third of the time a short workflow spends outside its handlers). While a bridge is installed, the
    interpreter's Lambda tasks share one client per region and endpoint (botocore clients are thread-safe)."""

    original: Callable[..., Any] | None = None
    cache: dict[tuple[Any, ...], Any] = {}  # process-wide, like the moto patch it serves
    lock = threading.Lock()


_CLIENT_FACTORY: Final = "boto_client_for"  # imported by name into moto's Lambda task evaluation


def _reuse_interpreter_lambda_clients() -> None:
    from moto.core.models import botocore_stubber
    from moto.settings import moto_server_port
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    if _InterpreterClients.original is not None:
        return
    original: Callable[..., Any] = getattr(lambda_eval_utils, _CLIENT_FACTORY)

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        # what moto's own function decides the client by: in-process interception, or the server's port
        key = (region, service, botocore_stubber.enabled, moto_server_port())
        with _InterpreterClients.lock:
            client = _InterpreterClients.cache.get(key)
            if client is None:
                client = _InterpreterClients.cache[key] = original(region, service, state_credentials)
        return client

    setattr(lambda_eval_utils, _CLIENT_FACTORY, boto_client_for)
    _InterpreterClients.original = original


def _restore_interpreter_lambda_clients() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    if _InterpreterClients.original is None:
        return
    setattr(lambda_eval_utils, _CLIENT_FACTORY, _InterpreterClients.original)
    _InterpreterClients.original = None
    with _InterpreterClients.lock:
        _InterpreterClients.cache.clear()


def _error_result(error_type: str, message: str, stack_trace: list[str] | None = None) -> InvocationResult:
    body = {"errorType": error_type, "errorMessage": message, "stackTrace": stack_trace or []}
    return InvocationResult(json.dumps(body).encode("utf-8"), "Unhandled")


class _Installed:
    """The bridge currently patched into moto (moto's backend class is process-wide, so there is one at most)."""

    bridge: LambdaBridge | None = None
    lock = threading.Lock()


def install_lambda_bridge(functions: Iterable[FunctionSpec]) -> LambdaBridge:
    """Install a bridge for ``functions`` into moto (one at a time); ``uninstall_lambda_bridge`` undoes it."""
    with _Installed.lock:
        if _Installed.bridge is not None:
            raise BridgeError("a Lambda bridge is already installed: uninstall it first")
        bridge = LambdaBridge(functions)
        bridge.install()
        _Installed.bridge = bridge
        return bridge


def bridge_installed() -> bool:
    """Whether a bridge is installed: a local runtime is running in this process."""
    return _Installed.bridge is not None


def uninstall_lambda_bridge() -> None:
    """Remove the installed bridge, if any, restoring moto's own invoke."""
    with _Installed.lock:
        if _Installed.bridge is not None:
            _Installed.bridge.uninstall()
            _Installed.bridge = None


def invoke_function(logical_id: str, event: Any) -> Any:
    """Call the installed bridge's handler for ``logical_id`` in-process (exceptions propagate)."""
    bridge = _Installed.bridge
    if bridge is None:
        raise BridgeError("no Lambda bridge is installed")
    return bridge.invoke_function(logical_id, event)
