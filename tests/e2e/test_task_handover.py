"""Handing a task over, through the API: only to an agent the platform knows, of the task's department. Anyone else
is a 422 naming ``agent`` and the task stays as it was, claimable by the department (before, a task handed to an id
that was no agent was nobody's for good: every agent got 409 and the case failed at its deadline)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from infra.local.runtime import LocalRuntime
from tests.conftest import HUGO, Api, act, agent, extract_waiting_for_an_agent


@pytest.fixture(scope="module")
def hugo(api: Api) -> str:
    return api.token(HUGO)


def the_task(api: Api, token: str, reference: str) -> dict[str, Any]:
    reply = api.request("GET", "/v1/agent/tasks", token=token, query="department=population&limit=100")
    assert reply.status == 200, reply.body
    return next(task for task in reply.json["items"] if task["reference"] == reference)


@pytest.mark.parametrize(
    ("target", "departments"),
    [
        ("agent-nobody-signed-in", None),  # no agent has this id
        ("agent-of-events", ["events"]),  # an agent, of another department
    ],
)
def test_a_task_handed_to_no_agent_of_its_department_is_refused_and_stays_claimable(
    api: Api, hugo: str, target: str, departments: list[str] | None
) -> None:
    # Given Hugo's extract waiting for the population department, and Alice and Bob, agents of it
    created = extract_waiting_for_an_agent(api, hugo)
    alice, bob = agent(api, "agent-alice"), agent(api, "agent-bob")
    if departments is not None:
        agent(api, target, *departments)
    task = the_task(api, alice, created["reference"])
    # When Alice hands it to someone who is no agent of population
    refused = act(api, alice, task["task_id"], "reassign", {"agent": target})
    # Then it is refused, naming the field, and the task is as it was: open, nobody's
    assert refused.status == 422, refused.body
    assert [detail["field"] for detail in refused.json["error"]["details"]] == ["agent"]
    unchanged = the_task(api, bob, created["reference"])
    assert (unchanged["status"], unchanged["claimed_by"], unchanged["claimed_at"]) == ("open", None, None)
    # And a colleague of the department can claim it
    claimed = act(api, bob, task["task_id"], "claim")
    assert claimed.status == 200, claimed.body
    assert claimed.json["claimed_by"] == "agent:agent-bob"


def test_a_task_is_not_handed_to_an_agent_the_city_disabled(api: Api, hugo: str, runtime: LocalRuntime) -> None:
    # Given Dora, an agent of population who signed in once, then was disabled by the city's IT
    created = extract_waiting_for_an_agent(api, hugo)
    alice = agent(api, "agent-alice")
    agent(api, "agent-dora")
    pool = runtime.description.functions["ApiFunction"].environment["AGENTS_USER_POOL_ID"]
    boto3.client("cognito-idp").admin_disable_user(UserPoolId=pool, Username="agent-dora")
    task = the_task(api, alice, created["reference"])
    # When Alice hands the task to her / Then it is refused, and the task stays open
    refused = act(api, alice, task["task_id"], "reassign", {"agent": "agent-dora"})
    assert refused.status == 422, refused.body
    assert the_task(api, alice, created["reference"])["status"] == "open"
