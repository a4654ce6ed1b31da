"""The local runtime's HTTP front, over real sockets: what it refuses before reading a body (a foreign Host, a
Content-Length that is no length), and what its request log prints (the route, never a code or a reason as sent)."""

from __future__ import annotations

import http.client
import json
import logging
import socket
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest

from infra.local.gateway import MAX_PAYLOAD_BYTES
from infra.local.runtime import LocalRuntime
from tests.conftest import ELISE, Api, agent

TIMEOUT = 10  # seconds: a server that waits for bytes that never come fails the test instead of hanging it


@dataclass(frozen=True)
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def error(self) -> dict[str, Any]:
        assert self.headers["Content-Type"] == "application/json"
        error: dict[str, Any] = json.loads(self.body)["error"]
        return error


def send(runtime: LocalRuntime, raw: bytes) -> Answer:
    """Write ``raw`` to the served API as is and read one HTTP answer (the connection stays open meanwhile)."""
    with socket.create_connection(("127.0.0.1", runtime.api_port), timeout=TIMEOUT) as connection:
        connection.sendall(raw)
        response = http.client.HTTPResponse(connection)
        response.begin()
        return Answer(response.status, response.headers, response.read())


def send_unread(runtime: LocalRuntime, raw: bytes) -> bytes:
    """Write ``raw`` and read whatever comes back until the server closes (for what is no HTTP request)."""
    with socket.create_connection(("127.0.0.1", runtime.api_port), timeout=TIMEOUT) as connection:
        connection.sendall(raw)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def request(runtime: LocalRuntime, *lines: str, body: bytes = b"") -> Answer:
    return send(runtime, "\r\n".join([*lines, "", ""]).encode("latin-1") + body)


def host(runtime: LocalRuntime) -> str:
    return f"Host: 127.0.0.1:{runtime.api_port}"


# ------------------------------------------------------------------------------------------------ Content-Length
@pytest.mark.parametrize("length", ["-1", "abc", "12abc", "1e3", "0x10", "+5", "1 2", "٣"])
def test_a_content_length_that_is_no_length_is_a_400_at_once(served: LocalRuntime, length: str) -> None:
    # When a request declares a Content-Length that is no number of bytes (and sends a body or not)
    answer = send(
        served,
        f"POST /v1/reports HTTP/1.1\r\n{host(served)}\r\nContent-Length: {length}\r\n"
        "Content-Type: application/json\r\n\r\n{}".encode(),
    )
    # Then the answer comes at once (no thread waits for bytes), in the API's error shape, naming the header
    assert answer.status == 400, answer.body
    assert answer.error["code"] == "malformed_request"
    assert [detail["field"] for detail in answer.error["details"]] == ["Content-Length"]
    assert answer.headers["Connection"] == "close"  # the body was not read: the connection ends with the answer


def test_two_different_content_lengths_are_a_400(served: LocalRuntime) -> None:
    answer = request(
        served, "POST /v1/reports HTTP/1.1", host(served), "Content-Length: 2", "Content-Length: 40", body=b"{}"
    )
    assert answer.status == 400, answer.body
    assert [detail["field"] for detail in answer.error["details"]] == ["Content-Length"]


@pytest.mark.parametrize("length", [str(MAX_PAYLOAD_BYTES + 1), "9" * 5000])
def test_a_content_length_over_api_gateways_quota_is_a_413_before_any_byte_is_read(
    served: LocalRuntime, length: str
) -> None:
    # When a request announces more than 10 MB (and sends none of it)
    answer = request(served, "POST /v1/reports HTTP/1.1", host(served), f"Content-Length: {length}")
    # Then it is refused at once, naming the body and the quota
    assert answer.status == 413, answer.body
    assert answer.error["code"] == "payload_too_large"
    [detail] = answer.error["details"]
    assert detail["field"] == "body"
    assert str(MAX_PAYLOAD_BYTES) in detail["reason"]


def test_a_client_waiting_to_send_a_large_body_hears_the_refusal_instead_of_continue(served: LocalRuntime) -> None:
    answer = request(
        served,
        "POST /v1/reports HTTP/1.1",
        host(served),
        f"Content-Length: {MAX_PAYLOAD_BYTES + 1}",
        "Expect: 100-continue",
    )
    assert answer.status == 413, answer.body


def test_a_chunked_body_is_refused_asking_for_its_length(served: LocalRuntime) -> None:
    answer = request(
        served, "POST /v1/reports HTTP/1.1", host(served), "Transfer-Encoding: chunked", body=b"2\r\n{}\r\n0\r\n\r\n"
    )
    assert answer.status == 411, answer.body
    assert [detail["field"] for detail in answer.error["details"]] == ["Transfer-Encoding"]


def test_a_body_of_its_announced_length_is_read_and_answered(served: LocalRuntime) -> None:
    body = json.dumps({"role": "citizen", "sub": ELISE, "client": "portal"}).encode()
    answer = request(
        served,
        "POST /local/token HTTP/1.1",
        host(served),
        f"Content-Length: {len(body)}",
        "Connection: close",
        body=body,
    )
    assert answer.status == 200, answer.body
    assert json.loads(answer.body)["token_type"] == "Bearer"


# ------------------------------------------------------------------------------------------------ Host
@pytest.mark.parametrize(
    "name",
    [
        "evil.example",
        "evil.example:{port}",
        "127.0.0.1",
        "127.0.0.1:{other}",
        "localhost",
        "127.0.0.2:{port}",
        "0:{port}",
    ],
)
def test_a_request_for_another_host_is_a_421(served: LocalRuntime, name: str) -> None:
    # Given a page of another site whose name a browser was made to resolve to 127.0.0.1 (DNS rebinding)
    value = name.format(port=served.api_port, other=served.api_port + 1)
    # When it calls the local API / Then it gets no answer of the API, only the refusal
    answer = request(served, "GET /v1/procedures HTTP/1.1", f"Host: {value}", "Connection: close")
    assert answer.status == 421, answer.body
    assert answer.error["code"] == "misdirected_request"
    assert [detail["field"] for detail in answer.error["details"]] == ["Host"]
    assert b"residence-certificate" not in answer.body


@pytest.mark.parametrize("name", ["127.0.0.1:{port}", "localhost:{port}", "LocalHost:{port}"])
def test_the_local_addresses_are_served(served: LocalRuntime, name: str) -> None:
    answer = request(
        served, "GET /v1/procedures HTTP/1.1", f"Host: {name.format(port=served.api_port)}", "Connection: close"
    )
    assert answer.status == 200, answer.body


@pytest.mark.parametrize(
    "headers",
    [[], ["Host: 127.0.0.1:{port}", "Host: evil.example"]],
    ids=["none", "two"],
)
def test_a_request_without_exactly_one_host_is_a_400(served: LocalRuntime, headers: list[str]) -> None:
    lines = [line.format(port=served.api_port) for line in headers]
    answer = request(served, "GET /v1/procedures HTTP/1.1", *lines, "Connection: close")
    assert answer.status == 400, answer.body
    assert [detail["field"] for detail in answer.error["details"]] == ["Host"]


def test_the_usual_clients_name_the_host_they_were_given(served: LocalRuntime) -> None:
    # (curl, urllib, requests and schemathesis send "Host: 127.0.0.1:<port>" for served.api_url)
    import urllib.request

    with urllib.request.urlopen(f"{served.api_url}/v1/procedures", timeout=TIMEOUT) as reply:
        assert reply.status == 200
    localhost = served.api_url.replace("127.0.0.1", "localhost")
    with urllib.request.urlopen(f"{localhost}/v1/procedures", timeout=TIMEOUT) as reply:
        assert reply.status == 200


# ------------------------------------------------------------------------------------------------ request log
def test_the_request_log_prints_routes_and_query_names_never_codes_or_reasons(
    served: LocalRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="infra.local")
    api = Api(served)
    alice = agent(api, "agent-alice", "population")
    code, reason = "K7QM-R2XP-9WDH", "Visite de Mme Exemplaire au guichet"
    # When an anonymous report's hand-off code and an agent's reason for reading a file travel in URLs
    request(served, f"POST /v1/handoff/{code} HTTP/1.1", host(served), "Content-Length: 0", "Connection: close")
    request(
        served,
        f"GET /v1/agent/cases/{uuid.UUID(int=0)}?reason={quote(reason)}&limit=5 HTTP/1.1",
        host(served),
        f"Authorization: Bearer {alice}",
        "Connection: close",
    )
    # And request lines that http.server cannot read, holding the code
    assert b"400" in send_unread(served, f"GET /v1/handoff/{code} HTTP/1.1 more\r\n\r\n".encode())
    assert b"505" in send_unread(served, f"GET /v1/handoff/{code} HTTP/2.0\r\n\r\n".encode())
    # Then the log says which routes were called and how they answered, without the code or the reason
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert '"POST /v1/handoff/{code}" 401' in logged
    assert '"GET /v1/agent/cases/{case_id}?reason=[redacted]&limit=[redacted]" 404' in logged
    for secret in (code, "Exemplaire", "Visite", alice):
        assert secret not in logged


def test_an_unrouted_path_is_logged_by_its_shape(served: LocalRuntime) -> None:
    gateway = served.gateway
    assert gateway.loggable("GET", "/v1/cases/87031413235/nowhere", "") == "/v1/cases/{?}/{?}"
    assert gateway.loggable("DELETE", "/v1/handoff/K7QM-R2XP", "x=1") == "/v1/handoff/{?}?x=[redacted]"
    assert gateway.loggable("GET", "/v1/cases", "87031413235") == "/v1/cases?{?}=[redacted]"
    assert gateway.loggable("POST", "/local/token", "") == "/local/token"
