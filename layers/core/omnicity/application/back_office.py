"""A case's file in the agents' back office, and "my file" for its citizen.

- The agents of the department that handles a case (``omnicity.capabilities.departments``: the department its form
routes it to,
  else its human step's, else its procedure's) see its whole file: the form, the timeline, the documents, the
  applicant (national register number included), the SLA due date, its tasks and who read it. To anyone else, the
  case does not exist (404).
- Every read of a case by an agent (this view, ``GET /v1/cases/{id}``, a document link) is logged in the case's
  audit trail (``omnicity.adapters.audit``) before the case is handed over: who, for which department, when, why (the
  ``reason`` the agent gives, or ``case view``).
- The case's citizen sees those reads: who (the agent's id and department), when, why.
- Those agents, and only they, publish a photo of a public case (an alert): until one of them does, Open311 shows no
  photo of it (``omnicity.application.open311``). Publishing is recorded on the case (a conditional write on its
  version) with its audit entry and a line on its timeline, in one transaction; publishing a photo already public
  changes nothing.
- Those agents, and only they, revoke a document the case issued (``omnicity.application.revocations``), by the same
  rule (:func:`handled_case`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

from omnicity.adapters.audit import PHOTO_PUBLISHED, AuditEntry, photo_published
from omnicity.adapters.cases import CaseReader, find_case
from omnicity.application.ports import AuditedCases
from omnicity.application.views import (
    AccessEntry,
    AccessLog,
    AgentCaseView,
    ApplicantView,
    CaseView,
    PublishedPhotos,
    TaskView,
)
from omnicity.capabilities.base import CAPABILITIES
from omnicity.capabilities.departments import acting_department
from omnicity.catalogue import Catalogue
from omnicity.domain import sla
from omnicity.domain.errors import ConflictError, ForbiddenError, NotFoundError
from omnicity.domain.identity import Principal
from omnicity.domain.models import AgentTask, Case, Procedure, Role, today_in_brussels
from omnicity.observability import logger

CASE_VIEW = "case view"
DOCUMENT_DOWNLOAD = "document download"


class Tasks(Protocol):
    def get(self, task_id: str) -> AgentTask: ...


class Trail(Protocol):
    """A case's audit trail (omnicity.adapters.audit.AuditTrail): the reads it logs, and who read the case."""

    def record_read(self, case: Case, *, actor: str, department: str | None, reason: str) -> AuditEntry: ...

    def reads(self, case_id: str) -> list[AuditEntry]: ...


class CaseFile:
    def __init__(self, cases: AuditedCases, tasks: Tasks, trail: Trail, catalogue: Catalogue) -> None:
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

    def publish_photo(self, principal: Principal, case_id: str, photo: int) -> PublishedPhotos:
        """Make the case's photo number ``photo`` (from 0, in the form's order) public: Open311 then links to it.

        Only an agent of the department that handles the case (anyone else: the same 404 as no case; a citizen or a
        kiosk: 403, as for the whole file); only a photo the case has (404) of a case published on Open311 (409 for
        any other). Recorded on the case with its audit entry (who, for which department, when, which photo) in one
        transaction, conditional on the case's version (retried from a fresh read when a step moved the case
        meanwhile; 409 when it keeps moving). A photo already public stays as it is: nothing is written again.
        """
        if principal.role is not Role.AGENT:
            raise ForbiddenError("only agents publish a case's photos")
        case, procedure, department = self._handled_case(principal, case_id)
        photos = procedure.photo_keys(case.form)
        if not 0 <= photo < len(photos):
            raise NotFoundError(f"no photo {photo} on this case: it has {len(photos)}")
        if not case.public:
            raise ConflictError(f"a {procedure.id} case is not published: its photos are not either")
        key = photos[photo]

        def publish(current: Case) -> Case | None:
            if key in current.published_photos:
                return None
            return current.with_entry(
                PHOTO_PUBLISHED,
                actor=principal.actor,
                at=datetime.now(UTC),
                published_photos=[*current.published_photos, key],
            )

        def entry(_: Case, published: Case) -> list[dict[str, Any]]:
            at = published.updated_at
            record = photo_published(published, actor=principal.actor, department=department, key=key, at=at)
            return self._cases.audit_items(published, [record])

        case = self._cases.update(case.case_id, publish, along=entry)
        logger.info("photo published", extra={"case_id": case.case_id, "photo": photo, "department": department})
        return PublishedPhotos(case_id=case.case_id, reference=case.reference, published_photos=case.published_photos)

    def access_log(self, principal: Principal, case_id: str) -> AccessLog:
        """Who read the case, for its citizen (to anyone else, the same 404 as a case that does not exist)."""
        case = self._case(case_id)
        if not principal.owns(case.applicant.nrn):
            raise NotFoundError(f"no case {case_id!r}")
        return AccessLog(items=[_access_entry(entry) for entry in self._trail.reads(case.case_id)])

    def _case(self, case_id: str) -> Case:
        return find_case(self._cases, case_id)

    def _handled_case(self, principal: Principal, case_id: str) -> tuple[Case, Procedure, str]:
        return handled_case(self._cases, self._catalogue, principal, case_id)

    def _tasks_of(self, case: Case, procedure: Procedure) -> list[AgentTask]:
        """The case's tasks, as its capabilities name them (a review's, once opened)."""
        tasks = []
        for task_id in CAPABILITIES.task_ids(procedure, case.case_id):
            try:
                tasks.append(self._tasks.get(task_id))
            except NotFoundError:
                continue  # not opened yet
        return tasks


def handled_case(
    cases: CaseReader, catalogue: Catalogue, principal: Principal, case_id: str
) -> tuple[Case, Procedure, str]:
    """The case, its procedure and the department the agent acts for on it (``omnicity.capabilities.departments``);
    to an agent of no department that handles it, the same 404 as a case that does not exist."""
    case = find_case(cases, case_id)
    procedure = catalogue.get(case.procedure_id)
    department = acting_department(principal, procedure, case)
    if department is None:
        raise NotFoundError(f"no case {case_id!r}")
    return case, procedure, department


def _access_entry(entry: AuditEntry) -> AccessEntry:
    return AccessEntry(at=entry.at, agent=entry.agent, department=entry.department, reason=entry.reason or CASE_VIEW)
