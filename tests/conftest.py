"""Shared fixtures: the platform on the embedded local runtime, built from template.yaml (never a copied schema)."""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import boto3
import pytest

from infra.local.runtime import LocalRuntime, wait_for_execution
from omnicity import aws
from omnicity.adapters.cases import CaseRepository
from omnicity.catalogue import retention_days_of
from omnicity.config import load_settings
from omnicity.families import FAMILIES
from tests import aws_guard
from tests.pdfs import pypdf_text

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
ELISE = "87031413235"  # fictional, French-speaking, lives in 1000 Bruxelles (first person of the register)
PIETER = "79051708730"  # fictional, Dutch-speaking, lives in 1020 Laeken
HUGO = "72030324138"  # fictional; his criminal record holds entries: his extracts wait for the population department


@dataclass(frozen=True)
class Reply:
    """An answer of the API. Its repr is its status and body: what a failing assertion about it needs to show (the
    headers are shown where a test reads them)."""

    status: int
    headers: Mapping[str, str] = field(repr=False)
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


# How a path no route serves is answered: a 404 too, `not_found` in the API's shape, so that a status (or an error
# code) alone cannot tell a missing case from a mistyped path. The API function says "no such route"
# (functions/api/app.py), API Gateway "no route for this method and path" (template.yaml's MISSING_AUTHENTICATION_TOKEN
# response), the local gateway "no route for GET /v1/..." (infra/local/gateway.py), Open311 "no such resource: see
# /open311/v2/services.json" (functions/open311/app.py).
NO_ROUTE: Final = ("no such route", "no route for ", "no such resource:")


def is_not_found(reply: Reply) -> bool:
    """Whether ``reply`` is the 404 of an operation about the object it names (a case, a document, a task...), not
    the one of a path no route serves (:data:`NO_ROUTE`). In the API's error shape: code ``not_found``; in Open311's
    (a list of ``{code, description}``, JSON or XML): code 404; and in both, a message of the operation's own.

    For ``assert is_not_found(api.request(...))``: pytest then shows the reply (its status and body) when it is not."""
    if reply.status != 404:
        return False
    try:
        if reply.body.startswith(b"<?xml"):  # Open311's XML
            errors = ET.fromstring(reply.body).iter("error")  # noqa: S314 - our own output, read as a client would
            said = [(error.findtext("code"), error.findtext("description")) for error in errors]
            code = "404"
        elif isinstance(reply.json, list):  # Open311's JSON
            said = [(str(error["code"]), error["description"]) for error in reply.json]
            code = "404"
        else:
            said = [(reply.json["error"]["code"], reply.json["error"]["message"])]
            code = "not_found"
    except (ValueError, KeyError, TypeError, ET.ParseError):  # not an error in either shape: not an operation's 404
        return False
    return bool(said) and all(each == code and not str(message).startswith(NO_ROUTE) for each, message in said)


class Api:
    """Talks to the local API Gateway emulation the way the portal, a kiosk or the counter would."""

    def __init__(self, runtime: LocalRuntime) -> None:
        self.runtime = runtime

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: Any = None,
        raw: bytes | None = None,
        query: str = "",
        headers: Mapping[str, str] | None = None,
        source_ip: str = "127.0.0.1",
    ) -> Reply:
        """``source_ip``: the address the request comes from (API Gateway's ``requestContext.identity.sourceIp``)."""
        sent = {"Content-Type": "application/json", **(headers or {})}
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        return self.send(method, path, query, sent, payload, source_ip)

    def send(
        self, method: str, path: str, query: str, headers: dict[str, str], payload: bytes | None, source_ip: str
    ) -> Reply:
        """How a prepared request reaches the gateway: here, in-process (``gateway.dispatch``)."""
        status, reply_headers, reply_body = self.runtime.gateway.dispatch(
            method, path, query, headers, payload, source_ip=source_ip
        )
        return Reply(status, reply_headers, reply_body)

    def case_count(self, token: str) -> int:
        """How many cases the token's citizen has (every page of ``GET /v1/cases``, however many)."""
        count, query = 0, "limit=100"
        while True:
            reply = self.request("GET", "/v1/cases", token=token, query=query)
            assert reply.status == 200, reply.body
            count += len(reply.json["items"])
            if not reply.json.get("next_cursor"):
                return count
            query = f"limit=100&cursor={reply.json['next_cursor']}"

    def token(
        self, sub: str, *, role: str = "citizen", client: str = "portal", departments: list[str] | None = None
    ) -> str:
        reply = self.request(
            "POST", "/local/token", body={"role": role, "sub": sub, "client": client, "departments": departments or []}
        )
        assert reply.status == 200, reply.body
        return str(reply.json["access_token"])

    def submit(self, token: str, language: str = "fr", form: Mapping[str, Any] | None = None, **extra: Any) -> Reply:
        body = {"procedure_id": "residence-certificate", "language": language, "form": dict(form or {}), **extra}
        return self.request("POST", "/v1/cases", token=token, body=body)

    def wait(self, case_id: str) -> dict[str, Any]:
        """Wait until the case's executions (named after the case) end, in the order they run; returns the last.

        A case runs in its family's machine; a document request an agent decides runs in two: the Express document
        machine, which hands the case to the Standard review machine, whose execution exists once the first one
        ended. Executions are found by name (moto describes Express executions too; AWS would not)."""
        stepfunctions = boto3.client("stepfunctions")
        ended: dict[str, Any] | None = None
        for machine in self._machines_in_run_order():
            execution = machine.arn.replace(":stateMachine:", ":execution:") + f":{case_id}"
            try:
                stepfunctions.describe_execution(executionArn=execution)
            except stepfunctions.exceptions.ExecutionDoesNotExist:
                continue
            ended = wait_for_execution(execution, timeout=30)
        if ended is None:
            raise AssertionError(f"no execution for case {case_id}")
        return ended

    def _machines_in_run_order(self) -> list[Any]:
        """The template's machines, each family's in the order a case runs through them (``omnicity.families``: the
        one a submission starts, then those it hands the case to; tests/unit/test_families.py holds them to the
        template)."""
        machines = self.runtime.description.state_machines
        return [machines[machine.logical_id] for family in FAMILIES for machine in family.machines]

    def wait_for_status(self, case_id: str, token: str, status: str, timeout: float = 20) -> dict[str, Any]:
        """Read the case until it reaches ``status`` (e.g. ``waiting`` for an agent); fails after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        case = self.case(case_id, token)
        while case["status"] != status and time.monotonic() < deadline:
            time.sleep(0.02)
            case = self.case(case_id, token)
        assert case["status"] == status, case
        return case

    def case(self, case_id: str, token: str) -> dict[str, Any]:
        reply = self.request("GET", f"/v1/cases/{case_id}", token=token)
        assert reply.status == 200, reply.body
        return dict(reply.json)

    def outbox(self) -> list[dict[str, Any]]:
        return list(self.request("GET", "/local/outbox").json)


# ---------------------------------------------------------------------------------------------------- the back office
def agent(api: Api, sub: str, *departments: str) -> str:
    """A token of agent ``sub`` on the counter's client, in ``departments`` (population by default)."""
    return api.token(sub, role="agent", client="counter", departments=list(departments or ("population",)))


def extract_waiting_for_an_agent(api: Api, hugo: str) -> dict[str, Any]:
    """Hugo's criminal record extract (his record holds entries), once it waits for an agent: the API's 201 body."""
    body = {"procedure_id": "criminal-record-extract", "language": "fr", "form": {"model": "595"}}
    reply = api.request("POST", "/v1/cases", token=hugo, body=body)
    assert reply.status == 201, reply.body
    api.wait_for_status(reply.json["case_id"], hugo, "waiting")
    return dict(reply.json)


def act(api: Api, token: str, task_id: str, action: str, body: Any = None) -> Reply:
    """``POST /v1/agent/tasks/{task_id}/{action}`` (claim, release, reassign, ask, complete)."""
    return api.request("POST", f"/v1/agent/tasks/{task_id}/{action}", token=token, body=body)


@pytest.fixture(scope="session", autouse=True)
def _never_aws_itself() -> Iterator[None]:
    """No test reaches AWS itself (``tests/aws_guard.py``)."""
    with aws_guard.installed():
        yield


@pytest.fixture(autouse=True)
def _no_test_reaches_aws(_never_aws_itself: None) -> Iterator[None]:
    """The test running when AWS itself was asked for (on any thread) fails, naming the host."""
    aws_guard.ASKED.clear()
    yield
    hosts = aws_guard.take()
    if hosts:
        pytest.fail(f"a client went to AWS itself instead of the local runtime: {', '.join(hosts)}")


# The shared platforms file many anonymous reports from one address (127.0.0.1): their limit is raised (the template's
# own limit is tried in tests/e2e/test_abuse_controls.py, on a platform of its own).
SHARED_PARAMETERS: Final = {"AnonymousReportLimit": "100000"}


def documents_bucket(s3: Any) -> str:
    """The documents bucket's name (the template's one bucket whose name says so): uploads and issued PDFs."""
    return str(next(b["Name"] for b in s3.list_buckets()["Buckets"] if "documents" in b["Name"]))


def stored_pdf(s3: Any, case_id: str, document_id: str) -> bytes:
    """A case's document exactly as stored in S3 (the bytes the citizen downloads), checked to be a PDF."""
    content = s3.get_object(Bucket=documents_bucket(s3), Key=f"cases/{case_id}/{document_id}.pdf")["Body"].read()
    assert content.startswith(b"%PDF")
    return bytes(content)


def pdf_text(s3: Any, case_id: str, document_id: str) -> str:
    """The stored PDF's text, as pypdf reads it (whitespace collapsed: line wrapping is layout, not wording)."""
    return pypdf_text(stored_pdf(s3, case_id, document_id))


@contextmanager
def fresh_runtime(
    mode: Literal["inprocess", "server"], parameters: Mapping[str, str] = SHARED_PARAMETERS
) -> Iterator[LocalRuntime]:
    """A local platform with no cached AWS client or settings from an earlier one (before and after)."""
    aws.reset_clients()
    load_settings.cache_clear()
    with LocalRuntime(TEMPLATE, mode=mode, api_port=0, moto_port=0, parameters=parameters) as local:
        yield local
    aws.reset_clients()
    load_settings.cache_clear()


@pytest.fixture(scope="module")
def runtime() -> Iterator[LocalRuntime]:
    """One local platform per test module (in-process moto, the template's resources, the Lambda bridge)."""
    with fresh_runtime("inprocess") as local:
        yield local


@pytest.fixture(scope="module")
def served() -> Iterator[LocalRuntime]:
    """The platform as `make run` serves it (moto server, HTTP front), on free ports."""
    with fresh_runtime("server") as local:
        local.serve_in_background()
        yield local


@pytest.fixture(scope="module")
def table(runtime: LocalRuntime) -> str:
    """The cases table's name, as the template declares it."""
    return runtime.description.tables["CasesTable"].name


@pytest.fixture(scope="module")
def repository(table: str) -> CaseRepository:
    return CaseRepository(table, retention=retention_days_of)


@pytest.fixture(scope="module")
def api(runtime: LocalRuntime) -> Api:
    return Api(runtime)


@pytest.fixture(scope="module")
def s3(runtime: LocalRuntime) -> Any:
    return boto3.client("s3")
