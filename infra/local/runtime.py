"""Start and stop the whole local world in one process.

``LocalRuntime.start`` sets fake credentials and the functions' merged environment, configures moto to execute state
machines without Docker, starts moto (a threaded server in ``"server"`` mode, ``mock_aws`` in ``"inprocess"`` mode),
installs the Lambda bridge, provisions the template's resources, makes the city's seal (``infra.local.seal``: a CA,
the seal's certificate for the template's KMS key, a timestamp authority) and starts the timer of the functions'
schedules. In ``"server"`` mode the HTTP front serves from the start; ``serve_forever`` waits on it. ``stop`` undoes
everything, os.environ, moto's patched invoke and the runtime's folder included, once the invocations still running
have ended (``LambdaBridge.drain``: a handler at work on another thread must not find moto gone).
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Literal
from unittest import mock
from urllib.parse import urlsplit

import boto3
from moto import mock_aws
from moto.core.config import DefaultConfig, default_user_config
from moto.server import ThreadedMotoServer

from infra.local import moto_speedups, retry_intervals
from infra.local.atomic_writes import make_dynamodb_writes_atomic, restore_dynamodb_writes
from infra.local.bridge import LambdaBridge, install_lambda_bridge, uninstall_lambda_bridge
from infra.local.gateway import LocalGateway
from infra.local.metrics_isolation import isolate_metrics
from infra.local.provision import provision
from infra.local.scheduler import DEFAULT_INTERVAL_SECONDS, ENV_INTERVAL, LocalScheduler
from infra.local.seal import TIMESTAMP_PATH, TIMESTAMP_URL_VARIABLE, LocalSeal, SealConfiguration
from infra.local.service_integrations import install_service_integrations, restore_service_integrations
from infra.local.template import REGION, TemplateDescription, describe, merged_environment
from infra.local.tokens import LocalIssuer
from infra.local.users import LocalUserPools

Mode = Literal["server", "inprocess"]

HOST: Final = "127.0.0.1"
IN_PROCESS_URL: Final = "http://local-runtime.invalid"  # what in-process mode answers without a socket
RUNTIME_FOLDERS: Final = ".local"  # beside the template (gitignored): one folder per running runtime, gone at stop
MOTO_CONFIG: Final[DefaultConfig] = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
FAKE_CREDENTIALS: Final[Mapping[str, str]] = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
_FINAL_STATUSES: Final = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
# How long stop() waits for the invocations still running (a Lambda function's longest timeout is 15 minutes; the
# template's steps end in seconds, a test's fault may hang one for a while)
DRAIN_SECONDS: Final = 30.0

logger = logging.getLogger(__name__)


class LocalRuntime:
    """The template's functions, API, tables, buckets and state machines running locally.

    Use as a context manager, or call ``start`` and ``stop``. ``mode="inprocess"`` needs no sockets (tests);
    ``mode="server"`` runs a moto server on ``127.0.0.1:moto_port`` (0 picks a free port) for ``make run``.
    ``schedule_interval``: every function's ``Schedule`` events fire every that many seconds (default: the
    ``OMNICITY_LOCAL_SCHEDULE_SECONDS`` environment variable, else 2); 0 starts no timer (``run_schedules`` fires
    them on demand). ``retry_scale``: the state machines sleep that fraction of each ASL Retry interval (default: the
    ``OMNICITY_LOCAL_RETRY_SCALE`` environment variable, else 1, real seconds as on AWS; tests use e.g. 0.01 to
    exhaust a Retry in milliseconds); the definitions themselves are never changed (``infra.local.retry_intervals``).

    Each started runtime has its own folder, ``.local/runtime-<pid>-<random>/`` beside the template (the seal's
    certificates live there), removed at stop. The functions reach the local timestamp authority at
    ``timestamp_url``: over HTTP through the front in ``"server"`` mode, handed to the gateway in-process in
    ``"inprocess"`` mode (as moto answers the AWS calls there).
    """

    def __init__(
        self,
        template_path: Path | str,
        *,
        mode: Mode = "server",
        api_port: int = 3000,
        moto_port: int = 5005,
        parameters: Mapping[str, str] | None = None,
        region: str = REGION,
        schedule_interval: float | None = None,
        retry_scale: float | None = None,
    ) -> None:
        if mode not in ("server", "inprocess"):
            raise ValueError(f"mode must be 'server' or 'inprocess', got {mode!r}")
        self.schedule_interval = _schedule_interval(schedule_interval)
        self.retry_scale = retry_intervals.retry_scale(retry_scale)
        self.template_path = Path(template_path).resolve()
        self.mode: Mode = mode
        self.api_port = api_port
        self.moto_port = moto_port
        self.region = region
        self.description: TemplateDescription = describe(self.template_path, parameters)
        self._saved_environ: dict[str, str] | None = None
        self._added_paths: list[str] = []
        self._config_patch: Any = None
        self._mock: Any = None
        self._moto_server: ThreadedMotoServer | None = None
        self._http: ThreadingHTTPServer | None = None
        self._http_serving = False
        self._bridge: LambdaBridge | None = None
        self._gateway: LocalGateway | None = None
        self._issuer: LocalIssuer | None = None
        self._scheduler: LocalScheduler | None = None
        self._restore_metrics: Callable[[], None] | None = None
        self._http_thread: threading.Thread | None = None
        self._folder: Path | None = None
        self._seal: LocalSeal | None = None

    # -- lifecycle
    def start(self) -> LocalRuntime:
        """Bring everything up; on failure, undo what was done and re-raise."""
        if self._saved_environ is not None:
            raise RuntimeError("the local runtime is already started")
        self._saved_environ = dict(os.environ)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        for layer in self.description.layers:
            path = str(layer.content_dir)
            if path not in sys.path:
                sys.path.insert(0, path)
                self._added_paths.append(path)
        os.environ.update(FAKE_CREDENTIALS)
        os.environ["AWS_DEFAULT_REGION"] = self.region
        os.environ["AWS_REGION"] = self.region
        os.environ.pop("AWS_PROFILE", None)
        os.environ.update(merged_environment(self.description))
        boto3.DEFAULT_SESSION = None  # clients made from here on read the environment set above
        if self.mode == "server":
            os.environ.pop("AWS_ENDPOINT_URL", None)
            self._config_patch = mock.patch.dict(default_user_config, MOTO_CONFIG)
            self._config_patch.start()
            self._moto_server = ThreadedMotoServer(ip_address=HOST, port=self.moto_port, verbose=False)
            self._moto_server.start()
            self.moto_port = self._moto_server.get_host_and_port()[1]
            os.environ["AWS_ENDPOINT_URL"] = self.moto_url
            # moto's Step Functions interpreter calls Lambda at http://localhost:$MOTO_PORT
            os.environ["MOTO_PORT"] = str(self.moto_port)
            # moto's backends live in this process: start from an empty world even if a runtime ran here before
            _reset_moto(self.moto_url)
        else:
            os.environ.pop("AWS_ENDPOINT_URL", None)
            self._mock = mock_aws(config=MOTO_CONFIG)
            self._mock.start()
        make_dynamodb_writes_atomic()
        moto_speedups.install()
        retry_intervals.scale_retry_intervals(self.retry_scale)
        install_service_integrations()  # an Express document execution starts the review one (states:startExecution)
        # before the bridge loads a handler: its log_metrics decorator binds the provider of that moment
        self._restore_metrics = isolate_metrics(importlib.import_module("omnicity.observability").metrics)
        self._bridge = install_lambda_bridge(self.description.functions.values())
        provision(self.description, region=self.region)
        folders = self.template_path.parent / RUNTIME_FOLDERS
        folders.mkdir(exist_ok=True)
        self._folder = Path(tempfile.mkdtemp(prefix=f"runtime-{os.getpid()}-", dir=folders))
        self._seal = self._start_seal(self._folder / "seal")
        self._issuer = LocalIssuer.from_description(self.description)
        self._gateway = LocalGateway(
            self.description,
            self._bridge,
            self._issuer,
            users=LocalUserPools(self.description, region=self.region),
            region=self.region,
            domain_name=f"{HOST}:{self.api_port}",
            seal=self._seal,
        )
        if self.mode == "server":
            self.serve_in_background()  # the functions' timestamps go through it
        elif self._seal is not None:
            _answer_in_process(self.timestamp_url, self._gateway)
        if self._seal is not None:
            os.environ[TIMESTAMP_URL_VARIABLE] = self.timestamp_url
        self._scheduler = LocalScheduler(
            self.description.schedules,
            self._bridge.invoke_payload,
            interval=self.schedule_interval or DEFAULT_INTERVAL_SECONDS,
        )
        if self.schedule_interval > 0:
            self._scheduler.start()

    def _start_seal(self, folder: Path) -> LocalSeal | None:
        """The city's seal, when a function of the template seals documents (``infra.local.seal``)."""
        tiers = {
            parameter.name: parameter.properties.get("Tier") for parameter in self.description.ssm_parameters.values()
        }
        configurations = {
            configuration
            for function in self.description.functions.values()
            if (configuration := SealConfiguration.of(function.environment, tiers)) is not None
        }
        if not configurations:
            return None
        if len(configurations) > 1:
            raise RuntimeError("the template's functions seal with different keys: the local runtime makes one seal")
        from omnicity.domain.city import get_city

        city = get_city().name
        return LocalSeal.start(
            configurations.pop(),
            kms=boto3.client("kms", region_name=self.region),
            ssm=boto3.client("ssm", region_name=self.region),
            folder=folder,
            city=f"{city.fr} - {city.nl}" if city.fr != city.nl else city.fr,
        )

    def stop(self) -> None:
        """Stop the schedules, the HTTP front, moto and the bridge; restore os.environ and sys.path; remove the
        runtime's folder. Safe to call twice."""
        if self._scheduler is not None:
            self._scheduler.stop()
            self._scheduler = None
        self._stop_http()
        if self._bridge is not None:
            still_running = self._bridge.drain(timeout=DRAIN_SECONDS)
            if still_running:
                logger.warning("stopping with invocations still running: %s", ", ".join(still_running))
            uninstall_lambda_bridge()
            self._bridge = None
        if self._restore_metrics is not None:
            self._restore_metrics()
            self._restore_metrics = None
        restore_dynamodb_writes()
        moto_speedups.restore()
        retry_intervals.restore_retry_intervals()
        restore_service_integrations()
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        if self._moto_server is not None:
            self._moto_server.stop()
            self._moto_server = None
        if self._config_patch is not None:
            self._config_patch.stop()
            self._config_patch = None
        for path in self._added_paths:
            if path in sys.path:
                sys.path.remove(path)
        self._added_paths.clear()
        if self._saved_environ is not None:
            os.environ.clear()
            os.environ.update(self._saved_environ)
            self._saved_environ = None
            boto3.DEFAULT_SESSION = None
        self._gateway = None
        self._issuer = None
        self._seal = None
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def _stop_http(self) -> None:
        if self._http is not None:
            if self._http_serving:
                self._http.shutdown()  # returns at once if serve_forever already ended (Ctrl-C)
            self._http.server_close()
            self._http = None
            self._http_serving = False
        if self._http_thread is not None:
            self._http_thread.join(timeout=5)
            self._http_thread = None

    def __enter__(self) -> LocalRuntime:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    # -- what a started runtime offers
    @property
    def gateway(self) -> LocalGateway:
        """The API front (started runtimes only)."""
        if self._gateway is None:
            raise RuntimeError("the local runtime is not started")
        return self._gateway

    @property
    def issuer(self) -> LocalIssuer:
        """The local token issuer (started runtimes only)."""
        if self._issuer is None:
            raise RuntimeError("the local runtime is not started")
        return self._issuer

    @property
    def bridge(self) -> LambdaBridge:
        """The in-process Lambda bridge (started runtimes only)."""
        if self._bridge is None:
            raise RuntimeError("the local runtime is not started")
        return self._bridge

    @property
    def seal(self) -> LocalSeal:
        """The local CA, seal certificate and timestamp authority (started runtimes whose functions seal)."""
        if self._seal is None:
            raise RuntimeError("the local runtime is not started, or none of its functions seals documents")
        return self._seal

    @property
    def has_seal(self) -> bool:
        """Whether the started runtime made a seal (a function of its template seals documents)."""
        return self._seal is not None

    @property
    def folder(self) -> Path:
        """The runtime's own folder (started runtimes only): ``.local/runtime-.../`` beside the template."""
        if self._folder is None:
            raise RuntimeError("the local runtime is not started")
        return self._folder

    @property
    def timestamp_url(self) -> str:
        """Where the functions ask the local timestamp authority (``SEAL_TIMESTAMP_URL``): the HTTP front's
        ``/local/tsa`` in ``"server"`` mode; in ``"inprocess"`` mode a host under ``.invalid`` (which never resolves)
        whose requests the runtime answers in-process, so that nothing but the runtime can answer them."""
        base = self.api_url if self.mode == "server" else IN_PROCESS_URL
        return f"{base}{TIMESTAMP_PATH}"

    @property
    def scheduler(self) -> LocalScheduler:
        """The timer of the functions' schedules (started runtimes only)."""
        if self._scheduler is None:
            raise RuntimeError("the local runtime is not started")
        return self._scheduler

    def run_schedules(self) -> dict[str, Any]:
        """Fire every enabled schedule once, now (what one tick of the timer does); returns each function's reply
        (its JSON result, or its error) by ``<function>.<event>``."""
        return {name: json.loads(result.payload) for name, result in self.scheduler.run_once().items()}

    @property
    def api_url(self) -> str:
        """Base URL of the local API."""
        return f"http://{HOST}:{self.api_port}"

    @property
    def moto_url(self) -> str:
        """Base URL of the moto server (server mode)."""
        return f"http://{HOST}:{self.moto_port}"

    def bind_http(self) -> ThreadingHTTPServer:
        """Bind the HTTP front on ``127.0.0.1:api_port`` (0 picks a free port) without serving yet."""
        if self._http is None:
            self._http = ThreadingHTTPServer((HOST, self.api_port), _handler_for(self.gateway))
            self._http.daemon_threads = True
            self.api_port = self._http.server_address[1]
        return self._http

    def serve_forever(self) -> None:
        """Serve the gateway over HTTP until ``stop`` (from another thread) or KeyboardInterrupt: in ``"server"``
        mode, where the front serves from the start, wait for it."""
        if self._http_thread is not None:
            while self._http_thread.is_alive():
                self._http_thread.join(timeout=0.5)  # a timeout: Ctrl-C reaches the main thread meanwhile
            return
        server = self.bind_http()
        self._http_serving = True
        server.serve_forever(poll_interval=0.2)

    def serve_in_background(self) -> threading.Thread:
        """Serve the gateway over HTTP from a daemon thread (tests; ``"server"`` mode does from the start); ``stop``
        ends it. Serving already, the thread that serves."""
        if self._http_thread is not None:
            return self._http_thread
        server = self.bind_http()
        self._http_serving = True
        self._http_thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._http_thread.start()
        return self._http_thread


def _schedule_interval(given: float | None) -> float:
    if given is None:
        text = os.environ.get(ENV_INTERVAL, "").strip()
        try:
            given = float(text) if text else DEFAULT_INTERVAL_SECONDS
        except ValueError:
            raise ValueError(f"{ENV_INTERVAL} must be a number of seconds, got {text!r}") from None
    if given < 0:
        raise ValueError(f"the schedule interval cannot be negative, got {given}")
    return given


def _answer_in_process(url: str, gateway: LocalGateway) -> None:
    """Requests POSTed to ``url`` (with ``requests``: the seal's timestamp client) are answered by ``gateway`` in this
    process, through moto's own interception of ``requests``, which in-process moto has started (and resets at its
    next start): in ``"inprocess"`` mode nothing listens on a socket."""
    from moto.core.models import responses_mock

    def answer(request: Any) -> tuple[int, dict[str, str], bytes]:
        url_parts = urlsplit(str(request.url))
        body = request.body.encode() if isinstance(request.body, str) else request.body
        return gateway.dispatch("POST", url_parts.path, url_parts.query, dict(request.headers), body)

    responses_mock.add_callback("POST", url, callback=answer)


def _reset_moto(moto_url: str) -> None:
    import urllib.request

    request = urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")  # noqa: S310 - local moto
    with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310 - the local moto server
        reply.read()


def wait_for_execution(
    execution_arn: str,
    timeout: float = 10.0,
    *,
    client: Any = None,
    poll_interval: float = 0.02,
) -> dict[str, Any]:
    """``describe_execution`` of ``execution_arn`` once it is no longer RUNNING; TimeoutError after ``timeout`` s."""
    stepfunctions = client or boto3.client("stepfunctions")
    deadline = time.monotonic() + timeout
    while True:
        execution: dict[str, Any] = stepfunctions.describe_execution(executionArn=execution_arn)
        if execution["status"] in _FINAL_STATUSES:
            return execution
        if time.monotonic() >= deadline:
            raise TimeoutError(f"execution {execution_arn} still {execution['status']} after {timeout} s")
        time.sleep(poll_interval)


def _handler_for(gateway: LocalGateway) -> type[BaseHTTPRequestHandler]:
    class GatewayRequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "omnicity-local"

        def handle_expect_100(self) -> bool:
            # A client that waits for "100 Continue" before sending its body hears the refusal instead
            return self._admitted() is not None and super().handle_expect_100()

        def _admitted(self) -> int | None:
            """The length of the body to read; None when the request was refused (answered, connection closing):
            Host and Content-Length are checked before anything reads the body (LocalGateway.admit)."""
            admitted = gateway.admit(list(self.headers.items()), self._port())
            if isinstance(admitted, int):
                return admitted
            self.close_connection = True  # the body, if any, was not read: the connection cannot go on
            self._reply(*admitted)
            return None

        def _dispatch(self) -> None:
            admitted = self._admitted()
            if admitted is None:
                return
            body = self.rfile.read(admitted) if admitted else None
            url = urlsplit(self.path)
            self._reply(
                *gateway.dispatch(
                    self.command,
                    url.path,
                    url.query,
                    list(self.headers.items()),
                    body,
                    source_ip=self.client_address[0],
                )
            )

        def _reply(self, status: int, headers: Mapping[str, str], payload: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        def _port(self) -> int:
            """The port this server listens on (the one bound, when 0 was asked)."""
            address = self.server.server_address
            assert isinstance(address, tuple)
            return int(address[1])

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _dispatch  # noqa: N815 - http.server's names

        def __getattr__(self, name: str) -> Any:
            # Any other method (TRACE, QUERY...) goes to the gateway too, which answers a JSON 405 where the resource
            # does not have it, as API Gateway does (http.server alone would answer an HTML 501).
            if name.startswith("do_"):
                return self._dispatch
            raise AttributeError(name)

        # The request log names the route, never the path or the query's values as sent (LocalGateway.loggable):
        # a hand-off code is a path parameter, an agent's reason a query value.
        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            status = code.value if isinstance(code, HTTPStatus) else code
            logger.info('%s "%s" %s %s', self.address_string(), self._loggable_request(), status, size)

        def log_error(self, format: str, *args: Any) -> None:
            # http.server's errors quote the request line as sent; the status line log_request writes next says enough
            if not format.startswith("code "):
                logger.info("%s %s", self.address_string(), format % args)

        def _loggable_request(self) -> str:
            path = getattr(self, "path", None)
            if not self.command or not path:
                return "-"  # no request line could be read
            url = urlsplit(path)
            return f"{self.command} {gateway.loggable(self.command, url.path, url.query)}"

    return GatewayRequestHandler
