"""Human steps: a procedure with a review waits for an agent, whose decision moves the case on or rejects it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from omnicity.adapters.registries import Registers
from omnicity.adapters.registries.national import SimulatedNationalRegister
from omnicity.application.workflow import EligibilityCheck, HumanSteps, RequestValidation
from omnicity.capabilities.review import ReviewSettings
from omnicity.catalogue import Catalogue, get_catalogue
from omnicity.catalogue.review_conditions import needs_review
from omnicity.domain.city import get_messages
from omnicity.domain.errors import StepInputError
from omnicity.domain.models import (
    Case,
    CaseStatus,
    Language,
    LocalizedText,
    TaskStatus,
)
from omnicity.domain.nrn import make_nrn
from tests.fakes import FakeCaseRepository, FakeTaskRepository, make_case, make_person

RESIDENT = make_nrn(date(1987, 3, 14), 132)
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
REVIEW = ReviewSettings(
    department="events",
    kind="review",
    instructions=LocalizedText(fr="Vérifier.", nl="Nakijken.", en="Check."),
)


@dataclass
class Steps:
    """The steps a reviewed case runs through, each built over the same fakes, as its function builds it."""

    validation: RequestValidation
    eligibility: EligibilityCheck
    human: HumanSteps


@pytest.fixture
def setup() -> tuple[Steps, FakeCaseRepository, FakeTaskRepository]:
    reviewed = (
        get_catalogue()
        .get("residence-certificate")
        .model_copy(update={"id": "reviewed", "capabilities": {"review": REVIEW}})
    )
    cases, tasks = FakeCaseRepository(), FakeTaskRepository()
    registers = Registers(national=SimulatedNationalRegister([make_person(RESIDENT, "Élise", "Exemplaire")]))
    catalogue = Catalogue([reviewed])
    steps = Steps(
        RequestValidation(cases, catalogue),
        EligibilityCheck(cases, catalogue, registers),
        HumanSteps(cases, catalogue, tasks),
    )
    cases.put(make_case("reviewed", nrn=RESIDENT, email="e@example.be", language=Language.NL, at=NOW))
    return steps, cases, tasks


def waiting(setup: tuple[Steps, FakeCaseRepository, FakeTaskRepository]) -> Case:
    steps, cases, _ = setup
    steps.validation.validate_request("case-1")
    assert steps.eligibility.check_eligibility("case-1") == "review"
    steps.human.open_task("case-1", "token-1")
    return cases.get("case-1")


def decided(setup: tuple[Steps, FakeCaseRepository, FakeTaskRepository], outcome: str, comment: str | None) -> str:
    """The case's task as the agent's completion leaves it (outcome, comment, who), then its id: what the execution
    hands the step."""
    _, _, tasks = setup
    [task] = tasks.tasks.values()
    update = {"status": TaskStatus.COMPLETED, "outcome": outcome, "comment": comment, "completed_by": "agent:a-1"}
    tasks.save(task.model_copy(update=update))
    return task.task_id


def test_an_eligible_case_of_a_reviewed_procedure_goes_to_review(setup) -> None:
    # Given a reviewed procedure's case, eligible
    steps, _, _ = setup
    steps.validation.validate_request("case-1")
    # When eligibility is checked / Then an agent must decide
    assert steps.eligibility.check_eligibility("case-1") == "review"


def test_opening_the_task_queues_it_for_the_department_and_the_case_waits(setup) -> None:
    # Given / When the human step opens, twice (a retried step)
    case = waiting(setup)
    steps, _, tasks = setup
    again = steps.human.open_task("case-1", "token-1")
    # Then one task is queued for the events department; the case waits
    assert len(tasks.tasks) == 1
    task = next(iter(tasks.tasks.values()))
    assert task.department == "events"
    assert task.task_token == "token-1"
    assert again.task_id == task.task_id
    assert task.outcomes == ["approve", "refuse"]
    assert case.status is CaseStatus.WAITING
    assert [e.event for e in case.timeline][-1] == "task_opened:review"


def test_a_retried_human_step_hands_the_agent_the_new_token(setup) -> None:
    # Given an open task (its step is retried by Step Functions, which hands the retry a new token)
    waiting(setup)
    steps, _, tasks = setup
    # When the step runs again
    steps.human.open_task("case-1", "token-of-the-retry")
    # Then the one task now holds the new token: the decision reaches the execution that waits
    assert [task.task_token for task in tasks.tasks.values()] == ["token-of-the-retry"]


def test_an_approval_sends_the_case_on_with_the_agent_on_the_timeline(setup) -> None:
    waiting(setup)
    steps, cases, _ = setup
    # When the agent approves, with a comment (on the task: the execution hands over the task's id and the outcome)
    task_id = decided(setup, "approve", "OK")
    # Then the workflow goes on; the agent and their comment are on the timeline
    assert steps.human.record_decision("case-1", task_id, "approve") == "approved"
    case = cases.get("case-1")
    assert case.status is CaseStatus.IN_PROGRESS
    assert case.timeline[-1].actor == "agent:a-1"
    assert case.timeline[-1].event == "decided:approve"
    assert case.timeline[-1].note is not None
    assert case.timeline[-1].note.fr == "OK"


def test_a_refusal_rejects_the_case_with_the_localized_reason_and_the_agents_words(setup) -> None:
    waiting(setup)
    steps, cases, _ = setup
    # When the agent refuses, saying why
    task_id = decided(setup, "refuse", "Zone saturée en juillet.")
    # Then the case is rejected; the reason, in every language, ends with the agent's words (read from the task)
    assert steps.human.record_decision("case-1", task_id, "refuse") == "refused"
    case = cases.get("case-1")
    assert case.status is CaseStatus.REJECTED
    assert case.reason is not None
    generic = get_messages().reason("refused_after_review")
    assert case.reason.nl.startswith(generic.nl)
    assert case.reason.nl.endswith("Zone saturée en juillet.")
    # And a retry of the step changes nothing
    assert steps.human.record_decision("case-1", task_id, "refuse") == "refused"
    assert [e.event for e in cases.get("case-1").timeline].count("decided:refuse") == 1


def test_an_outcome_the_procedure_does_not_know_is_refused(setup) -> None:
    waiting(setup)
    steps, _, _ = setup
    task_id = decided(setup, "maybe", None)
    with pytest.raises(StepInputError):
        steps.human.record_decision("case-1", task_id, "maybe")


@pytest.mark.parametrize(
    ("task_id", "outcome", "completed"),
    [
        ("task-of-nobody", "approve", True),  # no such task
        (None, "refuse", True),  # the task holds another outcome than the execution was handed
        (None, "approve", False),  # the task was not completed (its completion was undone)
    ],
    ids=["unknown-task", "other-outcome", "not-completed"],
)
def test_a_decision_the_task_does_not_hold_is_refused_and_the_case_waits(
    setup, task_id: str | None, outcome: str, completed: bool
) -> None:
    # Given a case waiting for its agent, whose task is decided (approve) or not
    waiting(setup)
    steps, cases, tasks = setup
    real_task_id = decided(setup, "approve", "OK") if completed else next(iter(tasks.tasks))
    # When the step is handed a decision its task does not hold / Then it fails, and the case is left as it was
    with pytest.raises(StepInputError):
        steps.human.record_decision("case-1", task_id or real_task_id, outcome)
    assert cases.get("case-1").status is CaseStatus.WAITING


def test_a_task_of_another_case_is_refused(setup) -> None:
    waiting(setup)
    steps, cases, tasks = setup
    task_id = decided(setup, "approve", "OK")
    [task] = tasks.tasks.values()
    tasks.tasks[task_id] = task.model_copy(update={"case_id": "case-2"})
    with pytest.raises(StepInputError):
        steps.human.record_decision("case-1", task_id, "approve")
    assert cases.get("case-1").status is CaseStatus.WAITING


def test_an_unknown_review_condition_is_a_configuration_error() -> None:
    with pytest.raises(LookupError):
        needs_review("when-the-moon-is-full", None, None)  # type: ignore[arg-type]
