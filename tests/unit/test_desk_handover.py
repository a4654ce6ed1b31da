"""Handing a task over: only to an agent the directory knows, of the task's department; anything else is a 422 on
``agent`` and leaves the task as it was (a task handed to an id that is no agent would be nobody's for good)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from omnicity.adapters.executions import WorkflowResumer
from omnicity.application.desk import AgentDesk
from omnicity.application.views import ReassignTaskRequest
from omnicity.catalogue import get_catalogue
from omnicity.domain.errors import ConflictError, ValidationFailedError
from omnicity.domain.identity import Principal
from omnicity.domain.models import AgentTask, Channel, LocalizedText, Role, TaskStatus
from tests.fakes import FakeTaskRepository

ALICE = Principal(
    role=Role.AGENT, subject="agent-alice", channel=Channel.COUNTER, departments=frozenset({"population"})
)


class FakeDirectory:
    """The agents' directory in memory: id -> departments; records who was looked up."""

    def __init__(self, agents: dict[str, frozenset[str]]) -> None:
        self.agents = agents
        self.asked: list[str] = []

    def departments_of(self, agent_id: str) -> frozenset[str] | None:
        self.asked.append(agent_id)
        return self.agents.get(agent_id)


DIRECTORY = {
    "agent-carol": frozenset({"population", "civil_status"}),
    "agent-ernest": frozenset({"events"}),
    "agent-newcomer": frozenset(),  # an agent the city's IT has not given a department yet
}


def open_task(tasks: FakeTaskRepository, **changes: object) -> AgentTask:
    task = AgentTask(
        task_id="task-1",
        case_id="case-1",
        reference="BXL-2026-000001",
        procedure_id="criminal-record-extract",
        department="population",
        kind="review",
        outcomes=["approve", "refuse"],
        instructions=LocalizedText(fr="Vérifier.", nl="Nakijken.", en="Check."),
        created_at=datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
        task_token="token-1",
    )
    return tasks.open(task.model_copy(update=changes))


@pytest.fixture
def tasks() -> FakeTaskRepository:
    return FakeTaskRepository()


@pytest.fixture
def directory() -> FakeDirectory:
    return FakeDirectory(dict(DIRECTORY))


@pytest.fixture
def desk(tasks: FakeTaskRepository, directory: FakeDirectory) -> AgentDesk:
    return AgentDesk(tasks, get_catalogue(), WorkflowResumer(client=object()), agents=directory)  # type: ignore[arg-type]


def test_a_task_goes_to_an_agent_of_its_department(desk: AgentDesk, tasks: FakeTaskRepository) -> None:
    # Given an open population task
    open_task(tasks)
    # When Alice hands it to Carol, an agent of population (and civil status)
    handed = desk.reassign(ALICE, "task-1", ReassignTaskRequest(agent="agent-carol"))
    # Then it is Carol's, claimed in her name
    assert (handed.status, handed.claimed_by) == (TaskStatus.CLAIMED, "agent:agent-carol")
    assert tasks.get("task-1").claimed_by == "agent:agent-carol"


@pytest.mark.parametrize(
    "target",
    [
        "agent-nobody",  # no agent has this id: the task would be nobody's for good
        "agent-ernest",  # an agent, of another department: they could never see it
        "agent-newcomer",  # an agent of no department yet
    ],
)
def test_a_task_is_not_handed_to_anyone_else_and_stays_as_it_was(
    desk: AgentDesk, tasks: FakeTaskRepository, target: str
) -> None:
    # Given an open population task
    before = open_task(tasks)
    # When Alice hands it to someone who is not an agent of population
    with pytest.raises(ValidationFailedError) as refused:
        desk.reassign(ALICE, "task-1", ReassignTaskRequest(agent=target))
    # Then it is a 422 naming the field, and the task is untouched: open, nobody's, same version
    assert refused.value.http_status == 422
    assert [detail["field"] for detail in refused.value.details] == ["agent"]
    assert "population" in refused.value.details[0]["reason"]
    assert tasks.get("task-1") == before


def test_a_task_one_may_not_hand_over_is_a_conflict_whoever_the_colleague(
    desk: AgentDesk, tasks: FakeTaskRepository, directory: FakeDirectory
) -> None:
    # Given a task Carol claimed
    open_task(tasks, status=TaskStatus.CLAIMED, claimed_by="agent:agent-carol")
    # When Alice hands it over, to a known colleague or to an unknown id / Then it is not hers to hand over (409)
    for target in ("agent-carol", "agent-nobody"):
        with pytest.raises(ConflictError):
            desk.reassign(ALICE, "task-1", ReassignTaskRequest(agent=target))
    assert directory.asked == []  # the directory is not asked about a hand-over refused anyway


def test_a_desk_is_not_built_without_the_agents_directory(tasks: FakeTaskRepository) -> None:
    # Given no agents' directory / When a desk is built without one / Then it is refused at once (at cold start),
    # not at the first hand-over a request asks of it
    with pytest.raises(TypeError, match="agents"):
        AgentDesk(tasks, get_catalogue(), WorkflowResumer(client=object()))  # type: ignore[arg-type, call-arg]
