"""A procedure with a human step: the criminal record extract of someone whose record holds entries waits for an
agent of the population department, whose decision issues the extract or rejects the case."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.conftest import ELISE, Api, is_not_found

HUGO = "72030324138"  # fictional; his criminal record holds entries
POPULATION = ["population"]


def submit_extract(api: Api, token: str, model: str = "595", purpose: str | None = None) -> dict[str, Any]:
    form = {"model": model} | ({"purpose": purpose} if purpose else {})
    reply = api.request(
        "POST",
        "/v1/cases",
        token=token,
        body={"procedure_id": "criminal-record-extract", "language": "fr", "form": form},
    )
    assert reply.status == 201, reply.body
    return dict(reply.json)


def task_of(api: Api, agent: str, reference: str) -> dict[str, Any]:
    queue = api.request("GET", "/v1/agent/tasks", token=agent, query="department=population&status=open")
    assert queue.status == 200, queue.body
    return next(task for task in queue.json["items"] if task["reference"] == reference)


@pytest.fixture(scope="module")
def hugo(api: Api) -> str:
    return api.token(HUGO)


@pytest.fixture(scope="module")
def agent(api: Api) -> str:
    return api.token("agent-101", role="agent", client="counter", departments=POPULATION)


def test_a_clean_record_is_issued_at_once_without_a_task(api: Api) -> None:
    # Given Élise, whose record is clean
    token = api.token(ELISE)
    # When she asks for an extract
    created = submit_extract(api, token)
    assert api.wait(created["case_id"])["status"] == "SUCCEEDED"
    # Then it is issued without any agent
    case = api.case(created["case_id"], token)
    assert case["status"] == "completed"
    assert not any(entry["event"].startswith("task_opened") for entry in case["timeline"])


def test_a_record_with_entries_waits_for_an_agent_who_approves(api: Api, hugo: str, agent: str) -> None:
    # Given Hugo's request: his record holds entries
    created = submit_extract(api, hugo)
    # When the workflow reaches the human step
    waiting = api.wait_for_status(created["case_id"], hugo, "waiting")
    assert waiting["timeline"][-1]["event"] == "task_opened:review"
    # Then the population department sees the task, with its outcomes and instructions in fr/nl/en
    task = task_of(api, agent, created["reference"])
    assert task["outcomes"] == ["approve", "refuse"]
    assert set(task["instructions"]) == {"fr", "nl", "en"}
    assert "task_token" not in task
    # When an agent approves
    reply = api.request("POST", f"/v1/agent/tasks/{task['task_id']}/complete", token=agent, body={"outcome": "approve"})
    assert reply.status == 200, reply.body
    assert reply.json["status"] == "completed"
    # Then the extract is issued, and the timeline says which agent decided
    assert api.wait(created["case_id"])["status"] == "SUCCEEDED"
    case = api.case(created["case_id"], hugo)
    assert case["status"] == "completed"
    assert len(case["documents"]) == 1
    decided = next(entry for entry in case["timeline"] if entry["event"] == "decided:approve")
    assert decided["actor"] == "agent:agent-101"
    # And the task cannot be decided twice
    again = api.request(
        "POST", f"/v1/agent/tasks/{task['task_id']}/complete", token=agent, body={"outcome": "refuse", "comment": "x"}
    )
    assert again.status == 409


def test_a_refusal_rejects_the_case_with_the_agents_reason(api: Api, hugo: str, agent: str) -> None:
    created = submit_extract(api, hugo, model="596.2", purpose="animateur de plaine de jeux")
    api.wait_for_status(created["case_id"], hugo, "waiting")
    task = task_of(api, agent, created["reference"])
    # When the agent refuses without a reason, with an unknown outcome, then with a reason
    no_reason = api.request(
        "POST", f"/v1/agent/tasks/{task['task_id']}/complete", token=agent, body={"outcome": "refuse"}
    )
    unknown = api.request("POST", f"/v1/agent/tasks/{task['task_id']}/complete", token=agent, body={"outcome": "maybe"})
    refused = api.request(
        "POST",
        f"/v1/agent/tasks/{task['task_id']}/complete",
        token=agent,
        body={"outcome": "refuse", "comment": "Condamnation incompatible avec l'activité."},
    )
    # Then the first two are 422 naming the field, the third rejects the case with the reason and tells Hugo
    assert no_reason.status == 422
    assert [d["field"] for d in no_reason.json["error"]["details"]] == ["comment"]
    assert unknown.status == 422
    assert "outcome" in [d["field"] for d in unknown.json["error"]["details"]]
    assert refused.status == 200
    assert api.wait(created["case_id"])["status"] == "SUCCEEDED"
    case = api.case(created["case_id"], hugo)
    assert case["status"] == "rejected"
    assert case["reason"]["fr"].endswith("Condamnation incompatible avec l'activité.")
    assert case["documents"] == []
    mails = [m for m in api.outbox() if created["reference"] in m["subject"]]
    assert len(mails) == 1
    assert "Condamnation incompatible" in mails[0]["body"]


def test_only_agents_of_the_department_see_and_decide_its_tasks(api: Api, hugo: str, agent: str) -> None:
    created = submit_extract(api, hugo)
    api.wait_for_status(created["case_id"], hugo, "waiting")
    task = task_of(api, agent, created["reference"])
    outsider = api.token("agent-202", role="agent", client="counter", departments=["events"])
    # When an agent of another department, or a citizen, tries
    queue = api.request("GET", "/v1/agent/tasks", token=outsider, query="department=population")
    decide = api.request(
        "POST", f"/v1/agent/tasks/{task['task_id']}/complete", token=outsider, body={"outcome": "approve"}
    )
    citizen = api.request("GET", "/v1/agent/tasks", token=hugo, query="department=population")
    # Then the queue is forbidden, the task does not exist for them, and citizens have no desk
    assert queue.status == 403
    assert is_not_found(decide)
    assert citizen.status == 403
    assert api.case(created["case_id"], hugo)["status"] == "waiting"


def test_two_agents_deciding_the_same_task_at_once_one_wins(api: Api, hugo: str) -> None:
    created = submit_extract(api, hugo)
    api.wait_for_status(created["case_id"], hugo, "waiting")
    agents = [api.token(f"agent-{n}", role="agent", client="counter", departments=POPULATION) for n in range(300, 306)]
    task = task_of(api, agents[0], created["reference"])
    statuses: list[int] = []
    lock = threading.Lock()

    def decide(token: str) -> None:
        reply = api.request(
            "POST", f"/v1/agent/tasks/{task['task_id']}/complete", token=token, body={"outcome": "approve"}
        )
        with lock:
            statuses.append(reply.status)

    threads = [threading.Thread(target=decide, args=(token,)) for token in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then exactly one decision was taken; the others were told it was already taken
    assert sorted(statuses) == [200] + [409] * (len(agents) - 1)
    assert api.wait(created["case_id"])["status"] == "SUCCEEDED"
    case = api.case(created["case_id"], hugo)
    assert [entry["event"] for entry in case["timeline"]].count("decided:approve") == 1


def test_an_extract_for_someone_not_registered_in_the_city_is_refused_by_the_rule(api: Api) -> None:
    # Given someone the population register of the city does not hold
    from datetime import date

    from omnicity.domain.nrn import make_nrn

    stranger = api.token(make_nrn(date(1991, 6, 6), 211))
    # When they ask for an extract / Then it is rejected by the eligibility rule, before any agent
    created = submit_extract(api, stranger)
    assert api.wait(created["case_id"])["status"] == "SUCCEEDED"
    case = api.case(created["case_id"], stranger)
    assert case["status"] == "rejected"
    assert case["reason"]["nl"]
    assert not any(entry["event"].startswith("task_opened") for entry in case["timeline"])


@pytest.mark.parametrize(
    ("form", "field"),
    [({"model": "596.2"}, "form.purpose"), ({"model": "597"}, "form.model"), ({}, "form.model")],
)
def test_a_bad_extract_request_is_422_naming_the_field(api: Api, hugo: str, form: dict[str, Any], field: str) -> None:
    before = len(api.request("GET", "/v1/cases", token=hugo, query="limit=100").json["items"])
    reply = api.request(
        "POST",
        "/v1/cases",
        token=hugo,
        body={"procedure_id": "criminal-record-extract", "language": "fr", "form": form},
    )
    assert reply.status == 422
    assert [d["field"] for d in reply.json["error"]["details"]] == [field]
    assert len(api.request("GET", "/v1/cases", token=hugo, query="limit=100").json["items"]) == before
