"""Asking the citizen end to end: an agent asks, the case waits for the answer with its SLA clock stopped, the
citizen answers and the task is back in the agent's queue, due later by the business days the wait took."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from omnicity.adapters.cases import CaseRepository
from omnicity.domain.business_days import city_calendar
from omnicity.domain.models import brussels_date
from tests.conftest import ELISE, HUGO, Api, act, agent, extract_waiting_for_an_agent, is_not_found

QUESTION = "Pour quel usage demandez-vous cet extrait ? Joignez la lettre de l'employeur."


def queue(api: Api, token: str, status: str, department: str = "population") -> list[dict[str, Any]]:
    query = f"department={department}&status={status}&limit=100"
    reply = api.request("GET", "/v1/agent/tasks", token=token, query=query)
    assert reply.status == 200, reply.body
    return list(reply.json["items"])


def task_of(api: Api, token: str, reference: str, status: str = "open") -> dict[str, Any]:
    return next(task for task in queue(api, token, status) if task["reference"] == reference)


def agent_view(api: Api, token: str, case_id: str) -> dict[str, Any]:
    reply = api.request("GET", f"/v1/agent/cases/{case_id}", token=token)
    assert reply.status == 200, reply.body
    return dict(reply.json)


@pytest.fixture(scope="module")
def hugo(api: Api) -> str:
    return api.token(HUGO)


@pytest.fixture(scope="module")
def clerk(api: Api) -> str:
    return agent(api, "agent-610")


def asked(api: Api, hugo: str, clerk: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A case whose task the clerk claimed and asked the citizen about: (the case as submitted, the task asked)."""
    created = extract_waiting_for_an_agent(api, hugo)
    task = task_of(api, clerk, created["reference"])
    assert act(api, clerk, task["task_id"], "claim").status == 200
    reply = act(api, clerk, task["task_id"], "ask", {"question": f"  {QUESTION}  "})
    assert reply.status == 200, reply.body
    return created, dict(reply.json)


def test_asking_stops_the_clock_and_the_citizen_sees_the_question(api: Api, hugo: str, clerk: str) -> None:
    # Given a case an agent claimed, when they ask the citizen a question
    created, task = asked(api, hugo, clerk)
    # Then the task waits for the citizen: out of the open and claimed queues, never overdue
    assert (task["status"], task["claimed_by"], task["overdue"]) == ("waiting_citizen", "agent:agent-610", False)
    assert created["reference"] not in {
        t["reference"] for t in queue(api, clerk, "open") + queue(api, clerk, "claimed")
    }
    assert task_of(api, clerk, created["reference"], "waiting_citizen")["task_id"] == task["task_id"]
    # and the case awaits the citizen, with the question (trimmed) on it, its clock stopped
    case = api.case(created["case_id"], hugo)
    assert case["status"] == "awaiting_citizen"
    assert [(q["question"], q["asked_by"], q["answer"]) for q in case["inquiries"]] == [
        (QUESTION, "agent:agent-610", None)
    ]
    assert case["timeline"][-1]["event"] == "information_requested"
    assert agent_view(api, clerk, created["case_id"])["sla_suspended"] is True
    # and the citizen was emailed the question, in the case's language (French)
    emails = [m for m in api.outbox() if created["reference"] in m["subject"] and "question" in m["subject"]]
    assert len(emails) == 1
    assert QUESTION in emails[0]["body"]
    assert "Bonjour" in emails[0]["body"]


def test_the_answer_puts_the_task_back_due_later_by_the_business_days_waited(
    api: Api, hugo: str, clerk: str, repository: CaseRepository
) -> None:
    # Given a case waiting for the citizen's answer since a Friday two weeks ago (8 business days, no holiday in
    # between unless the calendar says so: the expectation is computed from the city's calendar)
    created, task = asked(api, hugo, clerk)
    stored = repository.get(created["case_id"])
    assert stored.due_on is not None
    assert stored.sla_suspended_at is not None
    today = brussels_date(datetime.now(UTC))
    friday = today - timedelta(days=(today.weekday() - 4) % 7 + 14)
    since = datetime(friday.year, friday.month, friday.day, 10, tzinfo=UTC)
    repository.save(stored.model_copy(update={"sla_suspended_at": since}), previous=stored)
    calendar = city_calendar()
    waited = calendar.business_days_between(friday, today)
    assert waited >= 8
    # When the citizen answers
    reply = api.request("POST", f"/v1/cases/{created['case_id']}/reply", token=hugo, body={"answer": "Pour un emploi."})
    assert reply.status == 200, reply.body
    # Then the case waits for the agent again, the answer next to the question, and its clock runs again
    case = reply.json
    assert case["status"] == "waiting"
    assert case["inquiries"][-1]["answer"] == "Pour un emploi."
    assert case["inquiries"][-1]["answered_at"]
    assert case["timeline"][-1]["event"] == "information_provided"
    view = agent_view(api, clerk, created["case_id"])
    expected_due = calendar.add_business_days(stored.due_on, waited)
    assert view["sla_suspended"] is False
    assert view["due_on"] == expected_due.isoformat()
    # and the task is back in the asking agent's claimed queue, due on the case's new due date
    back = task_of(api, clerk, created["reference"], "claimed")
    assert (back["task_id"], back["claimed_by"], back["due_on"]) == (
        task["task_id"],
        "agent:agent-610",
        expected_due.isoformat(),
    )
    # and the agent can now decide: the extract is issued
    assert act(api, clerk, task["task_id"], "complete", {"outcome": "approve"}).status == 200
    assert api.wait_for_status(created["case_id"], hugo, "completed")["documents"]


def test_an_unclaimed_task_goes_back_to_the_open_queue(api: Api, hugo: str, clerk: str) -> None:
    created = extract_waiting_for_an_agent(api, hugo)
    task = task_of(api, clerk, created["reference"])
    assert act(api, clerk, task["task_id"], "ask", {"question": "Quelle adresse ?"}).json["claimed_by"] is None
    reply = api.request("POST", f"/v1/cases/{created['case_id']}/reply", token=hugo, body={"answer": "Rue Haute 1"})
    assert reply.status == 200, reply.body
    assert task_of(api, clerk, created["reference"], "open")["claimed_by"] is None


def test_an_agent_may_decide_without_the_answer_and_the_clock_runs_again(api: Api, hugo: str, clerk: str) -> None:
    # Given a case waiting for an answer that does not come
    created, task = asked(api, hugo, clerk)
    # When the agent refuses (saying why)
    reply = act(api, clerk, task["task_id"], "complete", {"outcome": "refuse", "comment": "Pas de réponse."})
    assert reply.status == 200, reply.body
    # Then the case is rejected with the reason, its clock no longer stopped
    case = api.wait_for_status(created["case_id"], hugo, "rejected")
    assert "Pas de réponse." in case["reason"]["fr"]
    assert agent_view(api, clerk, created["case_id"])["sla_suspended"] is False
    # and an answer now is too late
    late = api.request("POST", f"/v1/cases/{created['case_id']}/reply", token=hugo, body={"answer": "Trop tard"})
    assert late.status == 409
    assert late.json["error"]["code"] == "conflict"


def test_while_the_citizen_is_asked_the_task_cannot_be_claimed_handed_over_or_asked_again(
    api: Api, hugo: str, clerk: str
) -> None:
    created, task = asked(api, hugo, clerk)
    other = agent(api, "agent-611")
    assert act(api, other, task["task_id"], "claim").status == 409
    assert act(api, clerk, task["task_id"], "reassign", {"agent": "agent-611"}).status == 409
    assert act(api, clerk, task["task_id"], "ask", {"question": "Encore ?"}).status == 409
    # another agent of the department cannot decide a task their colleague asked about
    assert act(api, other, task["task_id"], "complete", {"outcome": "approve"}).status == 409
    assert api.case(created["case_id"], hugo)["status"] == "awaiting_citizen"


def test_only_the_cases_citizen_answers_and_others_learn_nothing(api: Api, hugo: str, clerk: str) -> None:
    created, _ = asked(api, hugo, clerk)
    path = f"/v1/cases/{created['case_id']}/reply"
    missing = api.request(
        "POST", "/v1/cases/00000000-0000-4000-8000-000000000000/reply", token=hugo, body={"answer": "x"}
    )
    elise = api.request("POST", path, token=api.token(ELISE), body={"answer": "x"})
    assert is_not_found(missing)
    assert is_not_found(elise)
    assert elise.json["error"]["code"] == missing.json["error"]["code"] == "not_found"
    # an agent does not answer for the citizen, nor does a kiosk device
    assert is_not_found(api.request("POST", path, token=clerk, body={"answer": "x"}))
    assert api.request("POST", path, token=None, body={"answer": "x"}).status == 401
    assert api.case(created["case_id"], hugo)["status"] == "awaiting_citizen"


def test_a_bad_answer_is_refused_naming_the_field_and_nothing_changes(api: Api, hugo: str, clerk: str) -> None:
    created, _ = asked(api, hugo, clerk)
    path = f"/v1/cases/{created['case_id']}/reply"
    blank = api.request("POST", path, token=hugo, body={"answer": "   "})
    assert blank.status == 422
    assert "answer" in blank.body.decode()
    someone_elses = f"uploads/{'0' * 32}/{'a' * 32}.jpg"
    foreign = api.request("POST", path, token=hugo, body={"answer": "ci-joint", "attachments": [someone_elses]})
    assert foreign.status == 422
    assert foreign.json["error"]["details"] == [{"field": "attachments[0]", "reason": "not one of your uploads"}]
    slot = api.request("POST", "/v1/uploads", token=hugo, body={"content_type": "image/jpeg"})
    assert slot.status == 201, slot.body
    never_uploaded = api.request(
        "POST", path, token=hugo, body={"answer": "ci-joint", "attachments": [slot.json["key"]]}
    )
    assert never_uploaded.status == 422
    assert "upload the photo first" in never_uploaded.body.decode()
    assert api.case(created["case_id"], hugo)["status"] == "awaiting_citizen"


def test_nobody_is_asked_about_an_anonymous_report_or_a_case_of_another_department(
    api: Api, hugo: str, clerk: str
) -> None:
    created = extract_waiting_for_an_agent(api, hugo)
    task = task_of(api, clerk, created["reference"])
    roads = agent(api, "agent-612", "public_works")
    assert is_not_found(act(api, roads, task["task_id"], "ask", {"question": "?"}))
    assert act(api, clerk, task["task_id"], "ask", {"question": ""}).status == 422
    assert act(api, hugo, task["task_id"], "ask", {"question": "?"}).status == 403
    assert api.case(created["case_id"], hugo)["status"] == "waiting"
    # an anonymous report has nobody to ask: its field agent decides with what it holds
    address = {"street": "Rue Haute", "number": "120", "postal_code": "1000"}
    form = {"category": "graffiti", "description": "Tag sur la façade.", "address": address}
    report = api.request(
        "POST", "/v1/reports", body={"procedure_id": "public-space-alert", "language": "fr", "form": form}
    )
    assert report.status == 201, report.body
    reference = report.json["reference"]
    cleaner = agent(api, "agent-613", "cleanliness")
    deadline = time.monotonic() + 20
    while api.request("GET", f"/v1/reports/{reference}").json["status"] != "waiting" and time.monotonic() < deadline:
        time.sleep(0.05)
    field_task = next(t for t in queue(api, cleaner, "open", "cleanliness") if t["reference"] == reference)
    refused = act(api, cleaner, field_task["task_id"], "ask", {"question": "Où exactement ?"})
    assert refused.status == 409
    assert "anonymous" in refused.json["error"]["message"]
    assert api.request("GET", f"/v1/reports/{reference}").json["status"] == "waiting"
