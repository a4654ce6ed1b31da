"""A case's file in the agents' back office, and "my file" for its citizen.

- The agents of the department that handles a case (``omnicity.departments``: the department its form routes it to,
  else its human step's, else its procedure's) see its whole file: the form, the timeline, the documents, the
  applicant (national register number included), the SLA due date, its tasks and who read it. To anyone else, the
  case does not exist (404).
- Every read of a case by an agent (this view, ``GET /v1/cases/{id}``, a document link) is logged in the case's
  audit trail (``omnicity.audit``) before the case is handed over: who, for which department, when, why (the
  ``reason`` the agent gives, or ``case view``).
- The case's citizen sees those reads: who (the agent's id and department), when, why.
"""

from __future__ import annotations

from typing import Protocol

from omnicity import sla
from omnicity.audit import AuditEntry, AuditTrail
from omnicity.cases import find_case
from omnicity.catalogue import Catalogue
from omnicity.departments import acting_department
from omnicity.errors import ForbiddenError, NotFoundError
from omnicity.identity import Principal
from omnicity.models import AgentTask, Case, Procedure, Role, today_in_brussels
from omnicity.tasks import task_id_for
from omnicity.views import AccessEntry, AccessLog, AgentCaseView, ApplicantView, CaseView, TaskView

CASE_VIEW = "case view"
DOCUMENT_DOWNLOAD = "document download"


class Cases(Protocol):
    def get(self, case_id: str) -> Case: ...


class Tasks(Protocol):
    def get(self, task_id: str) -> AgentTask: ...


class CaseFile:
    def __init__(self, cases: Cases, tasks: Tasks, trail: AuditTrail, catalogue: Catalogue) -> None:
        self._cases = cases
        self._tasks = tasks
        self._trail = trail
        self._catalogue = catalogue

    def for_agent(self, principal: Principal, case_id: str, reason: str | None = None) -> AgentCaseView:
        """The whole file, for an agent who handles the case; the read is logged first."""
        if principal.role is not Role.AGENT:
            raise ForbiddenError("only agents see a case's whole file")
        case, procedure, department = self._handled_case(principal, case_id)
        self._trail.record_read(case, actor=principal.actor, department=department, reason=reason or CASE_VIEW)
        today = today_in_brussels()
        view = CaseView.of(case, for_agent=True).model_dump()
        return AgentCaseView.model_validate(
            {
                **view,
                "applicant": ApplicantView(nrn=case.applicant.nrn, email=case.applicant.email),
                "department": department,
                "due_on": sla.due_on(case, procedure, today=today),
                "overdue": sla.is_overdue(case, procedure, today=today),
                "sla_suspended": case.sla_suspended_at is not None,
                "tasks": [TaskView.of(task, today) for task in self._tasks_of(case, procedure)],
                "access_log": [_access_entry(entry) for entry in self._trail.reads(case.case_id)],
            }
        )

    def record_read(self, principal: Principal, case: Case, reason: str) -> None:
        """Log that an agent read ``case`` (anyone else's reads are not logged: a citizen reading their own case)."""
        if principal.role is not Role.AGENT:
            return
        department = acting_department(principal, self._catalogue.get(case.procedure_id), case)
        if department is None:  # the caller checked the rule: a read the rule refuses is a bug, never logged as allowed
            raise NotFoundError(f"no case {case.case_id!r}")
        self._trail.record_read(case, actor=principal.actor, department=department, reason=reason)

    def access_log(self, principal: Principal, case_id: str) -> AccessLog:
        """Who read the case, for its citizen (to anyone else, the same 404 as a case that does not exist)."""
        case = self._case(case_id)
        if not principal.owns(case.applicant.nrn):
            raise NotFoundError(f"no case {case_id!r}")
        return AccessLog(items=[_access_entry(entry) for entry in self._trail.reads(case.case_id)])

    def _case(self, case_id: str) -> Case:
        return find_case(self._cases, case_id)

    def _handled_case(self, principal: Principal, case_id: str) -> tuple[Case, Procedure, str]:
        """The case, its procedure and the department the agent acts for on it (``omnicity.departments``); to an
        agent of no department that handles it, the same 404 as a case that does not exist."""
        case = self._case(case_id)
        procedure = self._catalogue.get(case.procedure_id)
        department = acting_department(principal, procedure, case)
        if department is None:
            raise NotFoundError(f"no case {case_id!r}")
        return case, procedure, department

    def _tasks_of(self, case: Case, procedure: Procedure) -> list[AgentTask]:
        """The case's tasks (a procedure has one human step at most: its id is derived from the case)."""
        if procedure.review is None:
            return []
        try:
            return [self._tasks.get(task_id_for(case.case_id, procedure.review.kind))]
        except NotFoundError:
            return []


def _access_entry(entry: AuditEntry) -> AccessEntry:
    return AccessEntry(at=entry.at, agent=entry.agent, department=entry.department, reason=entry.reason or CASE_VIEW)
