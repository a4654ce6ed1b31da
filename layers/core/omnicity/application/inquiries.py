"""Asking the citizen: an agent deciding a case asks for information; the case waits for the answer, its SLA clock
stopped; the citizen answers (with photos if asked) and the task is back in the agent's queue, due later by the
business days the wait took.

- ``ask``: from a task the agent may decide (open, or claimed by them) of a case with a citizen to ask (an anonymous
  report has none). In one transaction: the task waits (``waiting_citizen``: out of the open and claimed queues, never
  overdue), the case is ``awaiting_citizen`` with the question on it, and its clock stops
  (``omnicity.domain.sla.suspend``). The citizen gets an email in the case's language when their address is known.
- ``reply``: only the case's citizen (anyone else: the same 404 as no case), only while the case awaits an answer
  (409 otherwise). In one transaction: the question gets its answer, the case waits again for the agent, the clock
  restarts (``omnicity.domain.sla.resume``: the due date moves on by the business days waited), and the task is back in
  the queue it left (claimed by the same agent, or open), with the case's new due date.
- The agent may also decide without an answer (``omnicity.application.desk``): the decision restarts the clock.

Both are conditional writes on the versions read: of a reply and a decision at the same moment, one wins, the other
gets 409.
"""

from __future__ import annotations

from datetime import UTC, datetime

from omnicity.adapters.cases import CaseRepository, find_case
from omnicity.adapters.notifications import compose
from omnicity.adapters.tasks import TaskRepository
from omnicity.application.desk import require_agent, task_of_departments, task_state
from omnicity.application.ports import Mailer
from omnicity.application.views import AskCitizenRequest, CaseView, ReplyRequest, TaskView
from omnicity.capabilities.base import UploadCheck
from omnicity.catalogue import Catalogue
from omnicity.domain import sla
from omnicity.domain.errors import (
    CaseConflictError,
    ConflictError,
    DeliveryFailedError,
    NotFoundError,
    TransientError,
    ValidationFailedError,
    field_error,
)
from omnicity.domain.identity import Principal
from omnicity.domain.models import AgentTask, Case, CaseStatus, Inquiry, Role, TaskStatus
from omnicity.forms.validation import upload_key_problem
from omnicity.observability import logger


class Inquiries:
    def __init__(
        self,
        cases: CaseRepository,
        tasks: TaskRepository,
        catalogue: Catalogue,
        uploads: UploadCheck,
        mailer: Mailer,
    ) -> None:
        self._cases = cases
        self._tasks = tasks
        self._catalogue = catalogue
        self._uploads = uploads
        self._mailer = mailer

    def ask(self, principal: Principal, task_id: str, request: AskCitizenRequest) -> TaskView:
        """Ask the case's citizen ``request.question``; the task and the case wait for the answer."""
        require_agent(principal)
        task = task_of_departments(self._tasks, principal, task_id)
        if not task.status.awaits_agent or (task.claimed_by not in (None, principal.actor)):
            raise ConflictError(f"task {task_id} is {task_state(task)}: only who may decide it asks the citizen")
        case = self._cases.get(task.case_id)
        if case.applicant.nrn is None:
            raise ConflictError("an anonymous report has nobody to ask: decide with what it holds")
        if case.status is not CaseStatus.WAITING:
            raise ConflictError(f"the case is {case.status.value}: it does not wait for a decision")
        procedure = self._catalogue.get(case.procedure_id)
        now = datetime.now(UTC)
        inquiry = Inquiry(task_id=task.task_id, asked_at=now, asked_by=principal.actor, question=request.question)
        asked = sla.suspend(case, now, procedure).with_entry(
            "information_requested",
            actor=principal.actor,
            at=now,
            status=CaseStatus.AWAITING_CITIZEN,
            inquiries=[*case.inquiries, inquiry],
        )
        _, waiting = self._save_together(asked, case, task.model_copy(update={"status": TaskStatus.WAITING_CITIZEN}))
        logger.info("citizen asked for information", extra={"task_id": task_id, "case_id": case.case_id})
        self._tell_citizen(asked, request.question)
        return TaskView.of(waiting)

    def reply(self, principal: Principal, case_id: str, request: ReplyRequest) -> CaseView:
        """The citizen's answer to the question their case waits on: the task is back in the agent's queue."""
        case = self._own_case(principal, case_id)
        inquiry = case.open_inquiry
        if case.status is not CaseStatus.AWAITING_CITIZEN or inquiry is None:
            raise ConflictError(f"the case is {case.status.value}: it does not wait for an answer from you")
        self._check_attachments(principal, request.attachments)
        try:
            task = self._tasks.get(inquiry.task_id)
        except NotFoundError:
            raise ConflictError("the question was withdrawn: the case no longer waits for an answer") from None
        if task.status is not TaskStatus.WAITING_CITIZEN:
            raise ConflictError("the case was decided meanwhile: it no longer waits for an answer")
        procedure = self._catalogue.get(case.procedure_id)
        now = datetime.now(UTC)
        answered = inquiry.model_copy(
            update={"answered_at": now, "answer": request.answer, "attachments": request.attachments}
        )
        replied = sla.resume(case, now, procedure).with_entry(
            "information_provided",
            actor=principal.actor,
            at=now,
            status=CaseStatus.WAITING,
            inquiries=[answered if item is inquiry else item for item in case.inquiries],
        )
        back = TaskStatus.CLAIMED if task.claimed_by else TaskStatus.OPEN
        stored, _ = self._save_together(
            replied, case, task.model_copy(update={"status": back, "due_on": replied.due_on})
        )
        logger.info("citizen answered", extra={"case_id": case_id, "task_id": task.task_id})
        return CaseView.of(stored, for_agent=False)

    def _save_together(self, case: Case, previous: Case, task: AgentTask) -> tuple[Case, AgentTask]:
        """The case and its task, both or neither (each conditional on the version read)."""
        put, stored = self._tasks.conditional_put(task)
        try:
            saved = self._cases.save(case, along=[{"Put": put}], previous=previous)
        except CaseConflictError:
            raise ConflictError("the case or its task changed meanwhile: read it again") from None
        return saved, stored

    def _own_case(self, principal: Principal, case_id: str) -> Case:
        case = find_case(self._cases, case_id)
        if principal.role is not Role.CITIZEN or not principal.owns(case.applicant.nrn):
            raise NotFoundError(f"no case {case_id!r}")
        return case

    def _check_attachments(self, principal: Principal, keys: list[str]) -> None:
        problems = []
        for index, key in enumerate(keys):
            reason = upload_key_problem(key, principal.uploads_owner, keys[:index])
            if reason is not None:
                problems.append(field_error(f"attachments[{index}]", reason))
        if not problems:
            problems = self._uploads.unusable(keys, "attachments")
        if problems:
            raise ValidationFailedError("the answer has invalid fields", problems)

    def _tell_citizen(self, case: Case, question: str) -> None:
        """An email saying the city waits for an answer; the question is on the case whatever becomes of it."""
        if not case.applicant.email:
            return
        procedure = self._catalogue.get(case.procedure_id)
        email = compose("information_requested", case, procedure, case.applicant.email, {"question": question})
        try:
            self._mailer.send(email)
        except (DeliveryFailedError, TransientError):
            logger.exception("the question could not be emailed", extra={"case_id": case.case_id})
