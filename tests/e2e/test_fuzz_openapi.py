"""Fuzzing: schemathesis generates requests from the committed ``openapi.json`` (valid ones and invalid ones) and sends
them over HTTP to the platform as `make run` serves it. Whatever it sends, the API never answers 5xx, answers only
the status codes the document lists for the operation, as JSON, with a body that conforms to the documented schema,
and refuses (4xx) what the document calls invalid.

Bounded and deterministic: a fixed seed, derandomized generation, no example database, a few generated examples per
operation (on top of the document's own examples and schemathesis' coverage phase: boundaries and each kind of
invalid value, per parameter), so CI sends the same requests every run. Tokens are not fuzzed: every request carries
a valid one for its audience (the access-control tests try the others).

Fuzzed requests rarely hit an existing case or task, so a second test reads real ones (a case handled, a case
waiting for an agent, its task; a document revoked) through the same checks: the success bodies conform too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from schemathesis.checks import CHECKS, load_all_checks

from infra.local.runtime import LocalRuntime
from tests.conftest import ELISE, ROOT, Api

HUGO = "72030324138"  # fictional; his criminal record holds entries: his extract waits for an agent
MAX_EXAMPLES = 25
SEED = 20260501
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {
            "mode": "all",
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",
            # the test sends a real token with every request (below): tokens are not generated, nor mutated
            "with-security-parameters": False,
        },
        "phases": {"stateful": {"enabled": False}},
        # generating data is timed by Hypothesis; a busy CI machine must not turn that into a failure
        "suppress-health-check": ["too_slow"],
        "request-timeout": 30,
    }
)
SCHEMA = schemathesis.openapi.from_path(ROOT / "openapi.json", config=CONFIG)

# What "keeps to its document" means: no server error; a documented status; the documented content type and body;
# and input the document calls invalid is refused (4xx), never taken.
load_all_checks()
CHECKED: list[Any] = CHECKS.get_by_names(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
    ]
)
# Agents' routes and the city's figures (the reporting department's agents) are called with an agent's token, every
# other route with a citizen's: each operation gets past authentication and reaches its own validation.
AGENT_PATHS = ("/v1/agent/", "/v1/stats")
DEPARTMENTS = ["population", "civil_status", "cleanliness", "events", "green_spaces", "reporting"]


@dataclass(frozen=True)
class World:
    """Élise's case handled (with its document), Hugo's extract waiting for the population department, and tokens."""

    tokens: dict[str, str]
    handled_case: str
    document_id: str
    waiting_case: str
    task_id: str


@pytest.fixture(scope="module")
def world(served: LocalRuntime) -> World:
    api = Api(served)
    elise, hugo = api.token(ELISE), api.token(HUGO)
    agent = api.token("agent-fuzz", role="agent", client="counter", departments=DEPARTMENTS)
    handled = api.submit(elise)
    assert handled.status == 201, handled.body
    waiting = api.request(
        "POST",
        "/v1/cases",
        token=hugo,
        body={"procedure_id": "criminal-record-extract", "language": "nl", "form": {"model": "595"}},
    )
    assert waiting.status == 201, waiting.body
    api.wait(handled.json["case_id"])
    [document] = api.case(handled.json["case_id"], elise)["documents"]
    api.wait_for_status(waiting.json["case_id"], hugo, "waiting")
    queue = api.request("GET", "/v1/agent/tasks", token=agent, query="department=population")
    [task] = [task for task in queue.json["items"] if task["case_id"] == waiting.json["case_id"]]
    return World(
        tokens={"citizen": elise, "agent": agent, "hugo": hugo},
        handled_case=handled.json["case_id"],
        document_id=document["document_id"],
        waiting_case=waiting.json["case_id"],
        task_id=task["task_id"],
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@SCHEMA.parametrize()
def test_the_api_keeps_to_its_openapi_document(case: Any, served: LocalRuntime, world: World) -> None:
    # Given a generated request, with the token of the audience the operation is for
    audience = "agent" if case.path.startswith(AGENT_PATHS) else "citizen"
    # When it is sent to the served API, Then the reply passes every check
    case.call_and_validate(base_url=served.api_url, headers=bearer(world.tokens[audience]), checks=CHECKED)


def test_real_cases_and_tasks_read_as_the_document_says(served: LocalRuntime, world: World) -> None:
    # Given requests that reach real resources, in an order that works (claim before release), each with its caller
    requests: list[tuple[str, str, str, dict[str, Any], dict[str, Any]]] = [
        ("citizen", "GET", "/v1/cases", {}, {"limit": 10}),
        ("citizen", "GET", "/v1/cases/{case_id}", {"case_id": world.handled_case}, {}),
        ("citizen", "GET", "/v1/cases/{case_id}/access-log", {"case_id": world.handled_case}, {}),
        (
            "citizen",
            "GET",
            "/v1/cases/{case_id}/documents/{document_id}",
            {"case_id": world.handled_case, "document_id": world.document_id},
            {},
        ),
        ("citizen", "GET", "/v1/documents/{document_id}", {"document_id": world.document_id}, {}),
        ("citizen", "GET", "/v1/procedures/{procedure_id}/slots", {"procedure_id": "bulky-items-removal"}, {}),
        ("hugo", "GET", "/v1/cases/{case_id}", {"case_id": world.waiting_case}, {}),
        ("agent", "GET", "/v1/agent/tasks", {}, {"department": "population"}),
        ("agent", "GET", "/v1/agent/cases/{case_id}", {"case_id": world.waiting_case}, {"reason": "fuzz check"}),
        ("agent", "POST", "/v1/agent/tasks/{task_id}/claim", {"task_id": world.task_id}, {}),
        ("agent", "POST", "/v1/agent/tasks/{task_id}/release", {"task_id": world.task_id}, {}),
        ("agent", "GET", "/v1/stats", {}, {"from": "2026-01-01", "to": "2026-12-31"}),
    ]
    for caller, method, path, path_parameters, query in requests:
        case = SCHEMA[path][method].Case(path_parameters=path_parameters, query=query)
        # When each is sent, Then it succeeds and its body conforms to the document
        response = case.call_and_validate(base_url=served.api_url, headers=bearer(world.tokens[caller]), checks=CHECKED)
        assert response.status_code == 200, (method, path, response.text)
    # And an agent revokes the handled case's document: the answer, and the document's verification since, conform
    path_parameters = {"case_id": world.handled_case, "document_id": world.document_id}
    revoke = "/v1/agent/cases/{case_id}/documents/{document_id}/revoke"
    revocation = SCHEMA[revoke]["POST"].Case(path_parameters=path_parameters, body={"reason": "fuzz check"})
    verification = SCHEMA["/v1/documents/{document_id}"]["GET"].Case(path_parameters={"document_id": world.document_id})
    for case, caller in ((revocation, "agent"), (verification, "citizen")):
        response = case.call_and_validate(base_url=served.api_url, headers=bearer(world.tokens[caller]), checks=CHECKED)
        assert response.status_code == 200, response.text
    assert response.json()["status"] == "revoked"


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "multipart/form-data", "application/xml; charset=utf-8"],
    ids=["text", "multipart", "xml"],
)
def test_a_body_sent_as_anything_but_json_is_a_400_naming_the_content_type(
    served: LocalRuntime, world: World, content_type: str
) -> None:
    # Given a well-formed submission, sent with a Content-Type the API does not take (found by the fuzzer: a
    # multipart/form-data without a boundary made Powertools raise before any route ran, a 502)
    api = Api(served)
    before = len(api.request("GET", "/v1/cases", token=world.tokens["citizen"], query="limit=100").json["items"])
    body = b'{"procedure_id": "residence-certificate", "language": "fr", "form": {}}'
    # When it is posted
    reply = api.request(
        "POST", "/v1/cases", token=world.tokens["citizen"], raw=body, headers={"Content-Type": content_type}
    )
    # Then it is refused with the one error shape, naming the header, and no case is made
    assert reply.status == 400, reply.body
    assert reply.json["error"]["code"] == "malformed_request"
    assert [detail["field"] for detail in reply.json["error"]["details"]] == ["Content-Type"]
    after = len(api.request("GET", "/v1/cases", token=world.tokens["citizen"], query="limit=100").json["items"])
    assert after == before
