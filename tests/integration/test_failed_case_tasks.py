"""A case that fails closes its waiting task, against a moto table built from template.yaml: one transaction (the
case, the task, their audit entries), the task's queue keys moved, every item kept as long as the closed case."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from omnicity.adapters import audit
from omnicity.adapters.audit import AuditKind, AuditTrail
from omnicity.adapters.cases import CaseRepository
from omnicity.adapters.slots import SlotBook
from omnicity.adapters.tasks import TaskRepository, task_id_for
from omnicity.application.workflow import Failures
from omnicity.capabilities.review import Review
from omnicity.catalogue import get_catalogue, retention_days_of
from omnicity.domain.errors import CaseConflictError
from omnicity.domain.models import (
    AgentTask,
    Applicant,
    Case,
    CaseStatus,
    Channel,
    Language,
    TaskStatus,
    TimelineEntry,
)
from tests.conftest import ELISE

EXTRACT = get_catalogue().get("criminal-record-extract")  # reviewed by the population department


@pytest.fixture
def tasks(table: str) -> TaskRepository:
    return TaskRepository(table, retention=retention_days_of)


def waiting_case(repository: CaseRepository, tasks: TaskRepository) -> tuple[Case, AgentTask]:
    """An extract waiting for the population department, its review task open."""
    now = datetime.now(UTC)
    case = repository.create(
        Case(
            case_id=str(uuid.uuid4()),
            reference=f"BXL-2099-{uuid.uuid4().int % 10**6:06d}",
            procedure_id=EXTRACT.id,
            applicant=Applicant(nrn=ELISE),
            channel=Channel.PORTAL,
            language=Language.FR,
            form={"model": "595"},
            status=CaseStatus.SUBMITTED,
            timeline=[TimelineEntry(at=now, status=CaseStatus.SUBMITTED, event="submitted", actor="citizen")],
            submitted_by="citizen",
            created_at=now,
            updated_at=now,
        )
    )
    case = repository.update(
        case.case_id, lambda c: c.with_entry("task_opened:review", actor="system", at=now, status=CaseStatus.WAITING)
    )
    review = Review.required(EXTRACT)
    task = tasks.open(
        AgentTask(
            task_id=task_id_for(case.case_id, review.kind),
            case_id=case.case_id,
            reference=case.reference,
            procedure_id=EXTRACT.id,
            department="population",
            kind=review.kind,
            outcomes=review.outcomes,
            instructions=review.instructions,
            created_at=now,
            task_token="token",
        )
    )
    return case, task


def item(table: str, pk: str, sk: str) -> dict[str, Any]:
    found = boto3.client("dynamodb").get_item(
        TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True
    )
    return dict(found["Item"])


def test_the_task_leaves_its_queues_with_the_case_and_is_kept_as_long_as_it(
    table: str, repository: CaseRepository, tasks: TaskRepository
) -> None:
    # Given a waiting case whose task is in the population department's open queue
    case, task = waiting_case(repository, tasks)
    assert task.task_id in {t.task_id for t in tasks.queue("population", TaskStatus.OPEN, 100)}
    # When its workflow fails
    failed = Failures(repository, get_catalogue(), tasks, SlotBook(table)).mark_failed(
        case.case_id, "WaitTimedOut", "timed out"
    )
    # Then the case is failed and the task is closed, out of the open queue, into the failed one
    assert failed.status is CaseStatus.FAILED
    assert task.task_id not in {t.task_id for t in tasks.queue("population", TaskStatus.OPEN, 100)}
    assert task.task_id in {t.task_id for t in tasks.queue("population", TaskStatus.FAILED, 100)}
    stored = item(table, f"TASK#{task.task_id}", "TASK")
    assert stored["gsi2pk"] == {"S": "QUEUE#population#failed"}
    # ...and the case, its task and its task entry expire together, after the procedure's retention
    expires = audit.expires_at(failed, EXTRACT.retention_days)
    assert item(table, f"CASE#{case.case_id}", "CASE")["expires_at"] == {"N": str(expires)}
    assert stored["expires_at"] == {"N": str(expires)}
    [entry] = [
        e for e in AuditTrail(table, retention=retention_days_of).entries(case.case_id) if e.kind is AuditKind.TASK
    ]
    raw = item(table, *(key["S"] for key in audit.audit_key(case.case_id, entry.at, entry.audit_id).values()))
    assert raw["expires_at"] == {"N": str(expires)}


def test_the_case_is_not_failed_when_its_task_cannot_be_closed_with_it(
    table: str, repository: CaseRepository, tasks: TaskRepository
) -> None:
    # Given a waiting case, and a task repository that hands out its task at a version already gone (an agent wrote
    # it just after each read)
    case, task = waiting_case(repository, tasks)

    class Stale(TaskRepository):
        def get(self, task_id: str) -> AgentTask:
            return super().get(task_id).model_copy(update={"version": 0})

    # When MarkFailed runs
    with pytest.raises(CaseConflictError):
        Failures(repository, get_catalogue(), Stale(table, retention=retention_days_of), SlotBook(table)).mark_failed(
            case.case_id, "WaitTimedOut", "x"
        )
    # Then nothing of the transaction was written: the case still waits, its task is open, no entry was added
    assert repository.get(case.case_id).status is CaseStatus.WAITING
    assert tasks.get(task.task_id).status is TaskStatus.OPEN
    assert [e.kind for e in AuditTrail(table, retention=retention_days_of).entries(case.case_id)] == [
        AuditKind.STATUS,
        AuditKind.STATUS,
    ]
