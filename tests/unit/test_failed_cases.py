"""A case that fails closes its waiting task (omnicity.application.workflow.Failures.mark_failed), with in-memory
fakes: in the transaction that fails the case, with an audit entry, once however often MarkFailed runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest

from omnicity.adapters.audit import AuditKind
from omnicity.adapters.registries import Registers
from omnicity.adapters.registries.national import SimulatedNationalRegister
from omnicity.application.steps import FailedStep, parse
from omnicity.application.workflow import EligibilityCheck, Failures, HumanSteps, RequestValidation
from omnicity.capabilities.review import ReviewSettings
from omnicity.catalogue import Catalogue, get_catalogue
from omnicity.domain.errors import CaseConflictError, StepInputError
from omnicity.domain.models import (
    AgentTask,
    Case,
    CaseStatus,
    LocalizedText,
    TaskStatus,
)
from omnicity.domain.nrn import make_nrn
from tests.fakes import FakeCaseRepository, FakePlaces, FakeTaskRepository, make_case, make_person

RESIDENT = make_nrn(date(1987, 3, 14), 132)
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
REVIEW = ReviewSettings(department="events", instructions=LocalizedText(fr="Vérifier.", nl="Nakijken.", en="Check."))
TIMED_OUT = ("States.Timeout", "the wait for an agent timed out")


@dataclass
class World:
    """The steps a reviewed case runs through, each built over the same fakes, as its function builds it."""

    validation: RequestValidation
    eligibility: EligibilityCheck
    human: HumanSteps
    failures: Failures
    cases: FakeCaseRepository
    tasks: FakeTaskRepository

    def waiting_for_an_agent(self) -> AgentTask:
        """The case, submitted, eligible, its task opened: what an agent sees in the events queue."""
        self.validation.validate_request("case-1")
        assert self.eligibility.check_eligibility("case-1") == "review"
        return self.human.open_task("case-1", "token-1")

    def task(self) -> AgentTask:
        [task] = self.tasks.tasks.values()
        return task


@pytest.fixture
def world() -> World:
    reviewed = (
        get_catalogue()
        .get("residence-certificate")
        .model_copy(update={"id": "reviewed", "capabilities": {"review": REVIEW}})
    )
    cases, tasks = FakeCaseRepository(), FakeTaskRepository()
    registers = Registers(national=SimulatedNationalRegister([make_person(RESIDENT, "Élise", "Exemplaire")]))
    catalogue = Catalogue([reviewed])
    cases.put(make_case("reviewed", nrn=RESIDENT, email="e@example.be", at=NOW))
    return World(
        RequestValidation(cases, catalogue),
        EligibilityCheck(cases, catalogue, registers),
        HumanSteps(cases, catalogue, tasks),
        Failures(cases, catalogue, tasks, FakePlaces(date(2026, 3, 2))),
        cases,
        tasks,
    )


@pytest.mark.parametrize(
    ("task_status", "case_status"),
    [
        (TaskStatus.OPEN, CaseStatus.WAITING),
        (TaskStatus.CLAIMED, CaseStatus.WAITING),
        (TaskStatus.WAITING_CITIZEN, CaseStatus.AWAITING_CITIZEN),
    ],
)
def test_a_case_that_fails_closes_its_waiting_task_with_an_audit_entry(
    world: World, task_status: TaskStatus, case_status: CaseStatus
) -> None:
    # Given a case whose task waits (open, claimed by an agent, or waiting for the citizen's answer)
    opened = world.waiting_for_an_agent()
    world.tasks.tasks[opened.task_id] = opened.model_copy(update={"status": task_status})
    world.cases.cases["case-1"] = world.cases.get("case-1").model_copy(update={"status": case_status})
    failures: list[Case] = []
    # When its wait times out (the state machine's Catch hands it to MarkFailed)
    case = world.failures.mark_failed("case-1", *TIMED_OUT, on_failed=failures.append)
    # Then the case is failed, once
    assert case.status is CaseStatus.FAILED
    assert [c.case_id for c in failures] == ["case-1"]
    # ...and its task is closed, out of every queue an agent works from, by the system, when the case failed
    task = world.task()
    assert task.status is TaskStatus.FAILED
    assert not task.status.is_pending
    assert (task.completed_by, task.completed_at) == ("system", case.updated_at)
    # ...with an entry in the case's audit trail saying which task of which department closed how
    [entry] = world.cases.entries
    assert (entry.kind, entry.case_id, entry.actor, entry.department) == (AuditKind.TASK, "case-1", "system", "events")
    assert (entry.event, entry.target, entry.at) == ("task_failed:review", task.task_id, case.updated_at)


def test_marking_it_failed_again_changes_nothing(world: World) -> None:
    # Given a case failed by MarkFailed, its task closed
    world.waiting_for_an_agent()
    failed = world.failures.mark_failed("case-1", *TIMED_OUT)
    closed = world.task()
    # When MarkFailed runs again (a retry), then on the execution-ended event that follows the Fail state
    world.failures.mark_failed("case-1", *TIMED_OUT)
    world.failures.mark_failed("case-1", "FAILED", "the workflow execution ended FAILED")
    # Then nothing is written again: the case, the task and the trail are as the first call left them
    assert world.cases.get("case-1") == failed
    assert world.task() == closed
    assert len(world.cases.entries) == 1


def test_a_decided_task_stays_decided_when_a_later_step_fails(world: World) -> None:
    # Given the agent's decision (the task is completed, the case goes on)
    task = world.waiting_for_an_agent()
    decided = task.model_copy(update={"status": TaskStatus.COMPLETED, "outcome": "approve", "completed_by": "agent:a"})
    world.tasks.tasks[task.task_id] = decided
    world.cases.cases["case-1"] = world.cases.get("case-1").model_copy(update={"status": CaseStatus.IN_PROGRESS})
    # When the document step fails for good
    assert world.failures.mark_failed("case-1", "KeyError", "template").status is CaseStatus.FAILED
    # Then the task keeps its decision, and no task entry is written
    assert world.task() == decided
    assert world.cases.entries == []


def test_the_case_fails_only_with_its_task_closed_all_or_nothing(world: World) -> None:
    # Given an open task that an agent claims just after each read of MarkFailed (its version moves on every time)
    opened = world.waiting_for_an_agent()
    reads = world.tasks.get

    def claimed_meanwhile(task_id: str) -> AgentTask:
        read = reads(task_id)
        world.tasks.tasks[task_id] = read.model_copy(update={"version": read.version + 1})
        return read

    world.tasks.get = claimed_meanwhile  # type: ignore[method-assign]
    # When MarkFailed runs: the transaction's condition on the task fails on each of its attempts
    with pytest.raises(CaseConflictError):
        world.failures.mark_failed("case-1", *TIMED_OUT)
    # Then the case did not fail without its task: both are as they were (the state machine retries MarkFailed)
    assert world.cases.get("case-1").status is CaseStatus.WAITING
    assert world.task().status is TaskStatus.OPEN
    assert world.cases.entries == []
    # And once the task holds still, the retry fails the case and closes the task together
    world.tasks.get = reads  # type: ignore[method-assign]
    assert world.failures.mark_failed("case-1", *TIMED_OUT).status is CaseStatus.FAILED
    assert world.task().status is TaskStatus.FAILED
    assert world.task().version > opened.version


def test_a_task_opened_for_a_case_that_failed_meanwhile_is_closed_at_once(world: World) -> None:
    # Given a case failed while its human step was about to open its task (nothing to close then)
    world.validation.validate_request("case-1")
    assert world.eligibility.check_eligibility("case-1") == "review"
    world.failures.mark_failed("case-1", "WorkflowStalled", "no workflow step moved the case for 15 minutes")
    assert world.tasks.tasks == {}
    # When the step opens the task
    with pytest.raises(StepInputError, match="failed"):
        world.human.open_task("case-1", "token-1")
    # Then the task is closed at once, with its audit entry: no agent sees a task of a failed case
    assert world.task().status is TaskStatus.FAILED
    assert [entry.event for entry in world.cases.entries] == ["task_failed:review"]


@pytest.mark.parametrize("error", [{"Error": "WaitTimedOut", "Cause": None}, {"Error": "WaitTimedOut"}])
def test_mark_failed_takes_an_error_without_a_cause(error: dict[str, Any]) -> None:
    # (a task failure sent without a cause reaches MarkFailed's Catch with a null or absent Cause)
    step = parse(FailedStep, {"case_id": "case-1", "error": error})
    assert (step.error.error, step.error.cause) == ("WaitTimedOut", "")
