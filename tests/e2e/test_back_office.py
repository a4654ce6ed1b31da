"""The agents' back office end to end: queues in due order with filters, claiming (one winner), releasing and handing
over tasks, the case's whole file for the agents who handle it, and the access log its citizen sees."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from infra.local.runtime import LocalRuntime
from omnicity.adapters.cases import CaseRepository
from omnicity.catalogue import retention_days_of
from omnicity.domain.models import Applicant, Case, CaseStatus, Channel, Language, TimelineEntry
from tests.conftest import ELISE, HUGO, PIETER, Api, act, agent, extract_waiting_for_an_agent, is_not_found

GRAND_PLACE = {"lat": 50.8467, "lon": 4.3525}


# ---------------------------------------------------------------------------------------------------- helpers


def queue(api: Api, token: str, query: str) -> list[dict[str, Any]]:
    reply = api.request("GET", "/v1/agent/tasks", token=token, query=query)
    assert reply.status == 200, reply.body
    return list(reply.json["items"])


def task_of(api: Api, token: str, reference: str, query: str = "department=population") -> dict[str, Any]:
    return next(task for task in queue(api, token, query) if task["reference"] == reference)


@pytest.fixture(scope="module")
def hugo(api: Api) -> str:
    return api.token(HUGO)


# ---------------------------------------------------------------------------------------------------- claiming
def test_of_agents_claiming_one_task_at_once_exactly_one_wins(api: Api, hugo: str) -> None:
    # Given a task in the population queue and six agents of the department
    created = extract_waiting_for_an_agent(api, hugo)
    agents = {f"agent-4{n:02d}": agent(api, f"agent-4{n:02d}") for n in range(6)}
    task = task_of(api, next(iter(agents.values())), created["reference"])
    assert (task["status"], task["claimed_by"]) == ("open", None)
    replies: dict[str, int] = {}
    lock = threading.Lock()
    start = threading.Barrier(len(agents))

    def claim(sub: str, token: str) -> None:
        start.wait()
        reply = act(api, token, task["task_id"], "claim")
        with lock:
            replies[sub] = reply.status

    # When they all claim it at the same moment
    threads = [threading.Thread(target=claim, args=item) for item in agents.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then exactly one claim succeeded; the others were told it is taken
    assert sorted(replies.values()) == [200] + [409] * (len(agents) - 1)
    [winner] = [sub for sub, status in replies.items() if status == 200]
    # And the task left the open queue for the claimed one, in the winner's name
    assert created["reference"] not in {t["reference"] for t in queue(api, agents[winner], "department=population")}
    claimed = task_of(api, agents[winner], created["reference"], "department=population&status=claimed")
    assert claimed["claimed_by"] == f"agent:{winner}"
    assert claimed["claimed_at"]
    # And claiming it again is harmless for the winner, a 409 for anyone else
    assert act(api, agents[winner], task["task_id"], "claim").status == 200
    loser = next(sub for sub in agents if sub != winner)
    again = act(api, agents[loser], task["task_id"], "claim")
    assert again.status == 409
    assert f"claimed by agent:{winner}" in again.json["error"]["message"]
    # And only the winner decides it
    assert act(api, agents[loser], task["task_id"], "complete", {"outcome": "approve"}).status == 409
    assert act(api, agents[winner], task["task_id"], "complete", {"outcome": "approve"}).status == 200
    assert api.wait(created["case_id"])["status"] == "SUCCEEDED"
    assert api.case(created["case_id"], hugo)["status"] == "completed"
    assert act(api, agents[winner], task["task_id"], "claim").status == 409  # a decided task is nobody's to claim


def test_only_the_claimer_releases_a_task_and_it_goes_back_to_the_open_queue(api: Api, hugo: str) -> None:
    created = extract_waiting_for_an_agent(api, hugo)
    alice, bob = agent(api, "agent-alice"), agent(api, "agent-bob")
    task = task_of(api, alice, created["reference"])
    assert act(api, alice, task["task_id"], "claim").status == 200
    # When Bob releases Alice's task / Then it is refused; it stays Alice's
    refused = act(api, bob, task["task_id"], "release")
    assert refused.status == 409
    assert "only the agent who claimed it" in refused.json["error"]["message"]
    # When Alice releases it / Then it is open again, nobody's, and Bob may take it
    released = act(api, alice, task["task_id"], "release")
    assert released.status == 200, released.body
    assert (released.json["status"], released.json["claimed_by"]) == ("open", None)
    assert task_of(api, bob, created["reference"])["status"] == "open"
    assert act(api, alice, task["task_id"], "release").status == 409  # not claimed any more
    assert act(api, bob, task["task_id"], "claim").json["claimed_by"] == "agent:agent-bob"


def test_a_task_is_handed_over_to_another_agent_who_then_decides_it(api: Api, hugo: str) -> None:
    created = extract_waiting_for_an_agent(api, hugo)
    alice, carol, dave = agent(api, "agent-alice"), agent(api, "agent-carol"), agent(api, "agent-dave")
    task = task_of(api, alice, created["reference"])
    # An agent hands over a task nobody claimed, or one they claimed, and nothing else
    assert act(api, alice, task["task_id"], "reassign", {"agent": "agent-alice"}).json["claimed_by"] == (
        "agent:agent-alice"
    )
    assert act(api, dave, task["task_id"], "reassign", {"agent": "agent-dave"}).status == 409  # Alice's
    bad = act(api, alice, task["task_id"], "reassign", {"agent": "not an id!"})
    assert bad.status == 422
    assert [detail["field"] for detail in bad.json["error"]["details"]] == ["agent"]
    # When Alice hands it to Carol
    handed = act(api, alice, task["task_id"], "reassign", {"agent": "agent-carol"})
    assert handed.status == 200, handed.body
    assert (handed.json["status"], handed.json["claimed_by"]) == ("claimed", "agent:agent-carol")
    # Then it is Carol's: Alice can no longer decide it, Carol does
    assert act(api, alice, task["task_id"], "complete", {"outcome": "approve"}).status == 409
    done = act(api, carol, task["task_id"], "complete", {"outcome": "refuse", "comment": "Incompatible."})
    assert done.status == 200, done.body
    assert (done.json["completed_by"], done.json["claimed_by"]) == ("agent:agent-carol", "agent:agent-carol")
    assert api.wait(created["case_id"])["status"] == "SUCCEEDED"
    decided = api.case(created["case_id"], hugo)["timeline"]
    assert [e["actor"] for e in decided if e["event"] == "decided:refuse"] == ["agent:agent-carol"]
    assert act(api, carol, task["task_id"], "reassign", {"agent": "agent-alice"}).status == 409  # decided


def test_the_desk_is_for_the_agents_of_the_tasks_department(api: Api, hugo: str) -> None:
    created = extract_waiting_for_an_agent(api, hugo)
    task = task_of(api, agent(api, "agent-alice"), created["reference"])
    outsider = agent(api, "agent-events", "events")
    for action, body in (("claim", None), ("release", None), ("reassign", {"agent": "agent-events"})):
        assert is_not_found(act(api, outsider, task["task_id"], action, body))
        assert act(api, hugo, task["task_id"], action, body).status == 403
    assert is_not_found(act(api, agent(api, "agent-alice"), "task-does-not-exist", "claim"))


# ---------------------------------------------------------------------------------------------------- queues
def overdue_extract(runtime: LocalRuntime, api: Api, hugo: str, days_ago: int) -> Case:
    """A case submitted ``days_ago`` days ago (stored through the repository), whose workflow then runs: its task
    is due long before today."""
    at = datetime.now(UTC) - timedelta(days=days_ago)
    case = CaseRepository(runtime.description.tables["CasesTable"].name, retention=retention_days_of).create(
        Case(
            case_id=str(uuid.uuid4()),
            reference=f"BXL-2099-{uuid.uuid4().int % 10**6:06d}",
            procedure_id="criminal-record-extract",
            applicant=Applicant(nrn=HUGO),
            channel=Channel.PORTAL,
            language=Language.FR,
            form={"model": "595"},
            status=CaseStatus.SUBMITTED,
            timeline=[TimelineEntry(at=at, status=CaseStatus.SUBMITTED, event="submitted", actor="citizen")],
            submitted_by="citizen",
            created_at=at,
            updated_at=at,
        )
    )
    boto3.client("stepfunctions").start_execution(
        stateMachineArn=runtime.description.state_machines["DocumentRequestStateMachine"].arn,
        name=case.case_id,
        input=json.dumps({"case_id": case.case_id, "procedure_id": case.procedure_id}),
    )
    api.wait_for_status(case.case_id, hugo, "waiting")
    return case


def test_overdue_tasks_come_first_then_by_due_date_and_can_be_filtered(
    runtime: LocalRuntime, api: Api, hugo: str
) -> None:
    # Given two fresh requests and two submitted weeks ago (due long before today), the oldest submitted last
    fresh = [extract_waiting_for_an_agent(api, hugo)["reference"] for _ in range(2)]
    overdue = [overdue_extract(runtime, api, hugo, days_ago).reference for days_ago in (20, 40)]
    token = agent(api, "agent-queue")
    # When the department's queue is read
    items = queue(api, token, "department=population&procedure=criminal-record-extract")
    references = [task["reference"] for task in items]
    # Then the overdue tasks come first, the longest overdue first, then the others by due date
    assert references[:2] == list(reversed(overdue))
    assert [task["overdue"] for task in items[:2]] == [True, True]
    assert not any(task["overdue"] for task in items[2:])
    assert set(fresh) <= set(references[2:])
    due_dates = [task["due_on"] for task in items]
    assert due_dates == sorted(due_dates)
    # And the filters: only the overdue ones, only the others, another procedure (no task), at most one
    assert [t["reference"] for t in queue(api, token, "department=population&overdue=true")] == list(reversed(overdue))
    assert not set(overdue) & {t["reference"] for t in queue(api, token, "department=population&overdue=false")}
    assert queue(api, token, "department=population&procedure=residence-certificate") == []
    assert [t["reference"] for t in queue(api, token, "department=population&limit=1")] == [overdue[1]]
    bad = api.request("GET", "/v1/agent/tasks", token=token, query="department=population&overdue=maybe")
    assert bad.status == 422


def test_a_department_with_several_procedures_filters_its_queue_by_procedure(api: Api) -> None:
    # Given an alert (Pieter) and a bulky-items collection (Élise), both for the cleanliness department
    pieter, elise = api.token(PIETER), api.token(ELISE)
    alert = {"category": "litter", "description": "Sacs poubelles éventrés sur le trottoir.", "location": GRAND_PLACE}
    reported = api.request(
        "POST", "/v1/cases", token=pieter, body={"procedure_id": "public-space-alert", "language": "nl", "form": alert}
    )
    day = api.request("GET", "/v1/procedures/bulky-items-removal/slots").json["items"][0]["date"]
    booking = {
        "address": {"street": "Rue Haute", "number": "120", "postal_code": "1000"},
        "items": [{"item": "sofa", "quantity": 1}],
        "collection_date": day,
    }
    booked = api.request(
        "POST",
        "/v1/cases",
        token=elise,
        body={"procedure_id": "bulky-items-removal", "language": "fr", "form": booking},
    )
    assert (reported.status, booked.status) == (201, 201), (reported.body, booked.body)
    api.wait_for_status(reported.json["case_id"], pieter, "waiting")
    api.wait_for_status(booked.json["case_id"], elise, "waiting")
    crew = agent(api, "crew-1", "cleanliness")
    # When the crew filters its queue by procedure
    alerts = queue(api, crew, "department=cleanliness&procedure=public-space-alert")
    collections = queue(api, crew, "department=cleanliness&procedure=bulky-items-removal")
    # Then each filter keeps its own procedure's tasks only
    assert reported.json["reference"] in {t["reference"] for t in alerts}
    assert booked.json["reference"] in {t["reference"] for t in collections}
    assert {t["procedure_id"] for t in alerts} == {"public-space-alert"}
    assert {t["procedure_id"] for t in collections} == {"bulky-items-removal"}


# ---------------------------------------------------------------------------------------------------- the file
def test_the_agents_view_of_a_case_is_logged_and_its_citizen_sees_who_read_it(api: Api, hugo: str) -> None:
    # Given Hugo's extract, waiting for the population department
    created = extract_waiting_for_an_agent(api, hugo)
    case_id = created["case_id"]
    alice = agent(api, "agent-alice")
    # When an agent opens the case's file, saying why
    reply = api.request("GET", f"/v1/agent/cases/{case_id}", token=alice, query="reason=phone%20call%20from%20Hugo")
    # Then she sees everything: the form, the timeline, the applicant's national register number, the SLA, the task
    assert reply.status == 200, reply.body
    file = reply.json
    assert file["form"] == {"model": "595"}
    assert file["applicant"]["nrn"] == HUGO
    assert file["department"] == "population"
    assert file["due_on"] >= datetime.now(UTC).date().isoformat()
    assert file["overdue"] is False
    assert [e["event"] for e in file["timeline"]][-1] == "task_opened:review"
    [task] = file["tasks"]
    assert (task["kind"], task["status"], task["due_on"]) == ("review", "open", file["due_on"])
    assert "task_token" not in task
    # And her read is already in the case's access log
    assert [(e["agent"], e["reason"]) for e in file["access_log"]] == [("agent-alice", "phone call from Hugo")]
    # When she (then a colleague, through the citizen's view of the case) reads it again, and Hugo reads his case
    assert api.request("GET", f"/v1/cases/{case_id}", token=agent(api, "agent-bob")).status == 200
    api.case(case_id, hugo)
    # Then Hugo's file says who read it, for which department, when and why, newest first; his own reads are not there
    log = api.request("GET", f"/v1/cases/{case_id}/access-log", token=hugo)
    assert log.status == 200, log.body
    assert [(e["agent"], e["department"], e["reason"]) for e in log.json["items"]] == [
        ("agent-bob", "population", "case view"),
        ("agent-alice", "population", "phone call from Hugo"),
    ]
    assert log.json["items"][0]["at"] >= log.json["items"][1]["at"]


def test_a_document_link_given_to_an_agent_is_logged(api: Api, hugo: str) -> None:
    created = extract_waiting_for_an_agent(api, hugo)
    alice = agent(api, "agent-alice")
    task = task_of(api, alice, created["reference"])
    assert act(api, alice, task["task_id"], "complete", {"outcome": "approve"}).status == 200
    assert api.wait(created["case_id"])["status"] == "SUCCEEDED"
    document_id = api.case(created["case_id"], hugo)["documents"][0]["document_id"]
    # When the agent (then Hugo) takes the document's link
    path = f"/v1/cases/{created['case_id']}/documents/{document_id}"
    assert api.request("GET", path, token=alice).status == 200
    assert api.request("GET", path, token=hugo).status == 200
    # Then the agent's download is in Hugo's access log (the case is closed: the read expires with it)
    log = api.request("GET", f"/v1/cases/{created['case_id']}/access-log", token=hugo).json["items"]
    assert [(e["agent"], e["reason"]) for e in log] == [("agent-alice", "document download")]


def test_a_case_file_exists_only_for_the_agents_who_handle_it_and_a_log_only_for_its_citizen(
    api: Api, hugo: str
) -> None:
    created = extract_waiting_for_an_agent(api, hugo)
    case_id = created["case_id"]
    outsider, alice = agent(api, "agent-events", "events"), agent(api, "agent-alice")
    # An agent of another department, and an unknown or malformed case: the same 404
    assert is_not_found(api.request("GET", f"/v1/agent/cases/{case_id}", token=outsider))
    assert is_not_found(api.request("GET", f"/v1/agent/cases/{uuid.uuid4()}", token=alice))
    assert is_not_found(api.request("GET", "/v1/agent/cases/not-a-case", token=alice))
    # A citizen has no back office, even for their own case
    assert api.request("GET", f"/v1/agent/cases/{case_id}", token=hugo).status == 403
    # The access log is its citizen's only: to anyone else, the case does not exist
    assert is_not_found(api.request("GET", f"/v1/cases/{case_id}/access-log", token=api.token(ELISE)))
    assert is_not_found(api.request("GET", f"/v1/cases/{case_id}/access-log", token=alice))
    # And the refused reads were not logged
    assert api.request("GET", f"/v1/cases/{case_id}/access-log", token=hugo).json["items"] == []
    long_reason = api.request("GET", f"/v1/agent/cases/{case_id}", token=alice, query="reason=" + "x" * 201)
    assert long_reason.status == 422


def test_a_routed_alert_is_in_the_file_of_the_department_it_went_to(api: Api) -> None:
    # Given an alert about a street light: the procedure is the cleanliness department's, the case went to lighting
    pieter = api.token(PIETER)
    form = {
        "category": "street_lighting",
        "description": "Lampadaire éteint depuis une semaine.",
        "location": GRAND_PLACE,
    }
    reply = api.request(
        "POST", "/v1/cases", token=pieter, body={"procedure_id": "public-space-alert", "language": "fr", "form": form}
    )
    assert reply.status == 201, reply.body
    api.wait_for_status(reply.json["case_id"], pieter, "waiting")
    # Then the lighting department's field agent sees its file, with its task
    lighting = agent(api, "field-lighting", "public_lighting")
    file = api.request("GET", f"/v1/agent/cases/{reply.json['case_id']}", token=lighting)
    assert file.status == 200, file.body
    assert file.json["department"] == "public_lighting"
    assert [t["department"] for t in file.json["tasks"]] == ["public_lighting"]
    assert file.json["applicant"]["nrn"] == PIETER
    log = api.request("GET", f"/v1/cases/{reply.json['case_id']}/access-log", token=pieter).json["items"]
    assert [(e["agent"], e["department"]) for e in log] == [("field-lighting", "public_lighting")]


def test_the_routed_department_reads_the_case_everywhere_and_nobody_else_does(api: Api) -> None:
    # Given Pieter's alert about a street light: the procedure is cleanliness's, the case the lighting department's
    pieter = api.token(PIETER)
    form = {"category": "street_lighting", "description": "Lampadaire éteint rue Haute.", "location": GRAND_PLACE}
    body = {"procedure_id": "public-space-alert", "language": "fr", "form": form}
    reply = api.request("POST", "/v1/cases", token=pieter, body=body)
    assert reply.status == 201, reply.body
    case_id, missing = reply.json["case_id"], str(uuid.uuid4())
    api.wait_for_status(case_id, pieter, "waiting")
    lighting = agent(api, "field-lighting-2", "public_lighting")
    no_document = "doc-00000000000000000000"
    # When the lighting department's agent reads it through the cases API, with a reason, and asks for a document
    read = api.request("GET", f"/v1/cases/{case_id}", token=lighting, query="reason=on+site")
    document = api.request("GET", f"/v1/cases/{case_id}/documents/{no_document}", token=lighting)
    # Then they get the case (with what agents see), and the document route reaches the case (an alert has none)
    assert read.status == 200, read.body
    assert (read.json["case_id"], read.json["form"]["category"]) == (case_id, "street_lighting")
    assert (document.status, document.json["error"]["message"]) == (404, f"no document {no_document!r} on this case")
    # ...and the read is logged for the lighting department: Pieter sees who read his case, for whom, why
    log = api.request("GET", f"/v1/cases/{case_id}/access-log", token=pieter).json["items"]
    assert [(e["agent"], e["department"], e["reason"]) for e in log] == [
        ("field-lighting-2", "public_lighting", "on site")
    ]
    # When agents of other departments try: the procedure's own (cleanliness), and roads
    for outsider in (agent(api, "agent-clean", "cleanliness"), agent(api, "agent-roads", "roads")):
        for path in ("/v1/cases/{}", "/v1/cases/{}/documents/" + no_document, "/v1/agent/cases/{}"):
            theirs = api.request("GET", path.format(case_id), token=outsider)
            unknown = api.request("GET", path.format(missing), token=outsider)
            # Then each answer is the one for a case that does not exist, word for word, code included
            assert is_not_found(theirs)
            assert theirs.body.decode().replace(case_id, "<id>") == unknown.body.decode().replace(missing, "<id>")
    # And their refused reads were not logged
    assert len(api.request("GET", f"/v1/cases/{case_id}/access-log", token=pieter).json["items"]) == 1


def test_at_the_counter_an_agent_opens_the_alerts_their_department_would_handle(api: Api) -> None:
    # Given an alert about a street light that Pieter reports at the counter (it would go to the lighting department)
    form = {"category": "street_lighting", "description": "Lampadaire éteint au coin.", "location": GRAND_PLACE}
    body = {"procedure_id": "public-space-alert", "language": "nl", "form": form, "citizen_nrn": PIETER}
    # When an agent of cleanliness (the procedure's department), then one of lighting, opens it for him
    cleanliness = api.request("POST", "/v1/cases", token=agent(api, "desk-clean", "cleanliness"), body=body)
    lighting_agent = agent(api, "desk-light", "public_lighting")
    lighting = api.request("POST", "/v1/cases", token=lighting_agent, body=body)
    # Then only the department that will handle it may (it can then read the case it opened)
    assert (cleanliness.status, cleanliness.json["error"]["code"]) == (403, "forbidden")
    assert lighting.status == 201, lighting.body
    assert api.request("GET", f"/v1/cases/{lighting.json['case_id']}", token=lighting_agent).status == 200
