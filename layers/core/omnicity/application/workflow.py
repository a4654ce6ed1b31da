"""The workflow steps generic across procedures: each reads the case, asks the catalogue what to do, records the
outcome on the case (status + timeline) with an optimistic-locked write. A family's own steps live in a module of
their own (the card order's: ``omnicity.application.card_order``).

Each step function builds, once at cold start (``functions/<step>/app.py``, from the settings validated then), the
object of its step below, with every collaborator the step uses: none is optional, so a step never finds one missing
at request time.

Steps are idempotent: Step Functions retries them, so a step that finds its work already done does nothing again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from omnicity.adapters.audit import task_closed
from omnicity.adapters.documents import document_id_for, document_key
from omnicity.adapters.notifications import compose
from omnicity.adapters.registries import Registers
from omnicity.adapters.tasks import closed_undecided, task_id_for
from omnicity.application.ports import AuditedCases, DocumentSealer, Mailer
from omnicity.capabilities.base import CAPABILITIES, Closure, Places
from omnicity.capabilities.departments import handling_department
from omnicity.capabilities.review import Review
from omnicity.catalogue import Catalogue
from omnicity.catalogue.document_contexts import build_context
from omnicity.catalogue.eligibility import check
from omnicity.catalogue.review_conditions import needs_review
from omnicity.domain import sla
from omnicity.domain.city import get_messages
from omnicity.domain.errors import (
    CaseCancelledError,
    ConflictError,
    DeliveryFailedError,
    NotFoundError,
    StepInputError,
    ValidationFailedError,
)
from omnicity.domain.models import (
    SYSTEM_ACTOR,
    AgentTask,
    Case,
    CaseDocument,
    CaseStatus,
    Failure,
    LocalizedText,
    TaskStatus,
    brussels_date,
    today_in_brussels,
)
from omnicity.domain.verification import verification_url
from omnicity.forms.validation import validate_form
from omnicity.observability import logger

_MAX_CAUSE = 500

Renderer = Callable[[str, str, dict[str, object]], bytes]
# The branch a step tells its state machine to take (a Choice state matches these words)
EligibilityBranch = Literal["eligible", "review", "rejected", "closed"]
DecisionBranch = Literal["approved", "refused", "closed"]


class Cases(AuditedCases, Protocol):
    """What the steps need of the case repository (``omnicity.adapters.cases.CaseRepository``)."""

    def register_document(self, document_id: str, case_id: str) -> None: ...

    def in_flight_before(self, moment: datetime, limit: int = 100) -> list[Case]: ...


class PdfStore(Protocol):
    """Where documents go (omnicity.adapters.documents.DocumentStore): the first write of a key wins; ``put_pdf``
    returns the SHA-256 (hex) of the object the key holds."""

    def put_pdf(self, key: str, content: bytes, *, reference: str, retention_days: int | None = None) -> str: ...


class Tasks(Protocol):
    """Where agent tasks wait (omnicity.adapters.tasks.TaskRepository)."""

    def open(self, task: AgentTask) -> AgentTask: ...

    def get(self, task_id: str) -> AgentTask: ...

    def save(self, task: AgentTask, along: Sequence[dict[str, Any]] = ()) -> AgentTask: ...

    def conditional_put(self, task: AgentTask) -> tuple[dict[str, Any], AgentTask]: ...


def _now() -> datetime:
    return datetime.now(UTC)


def _comment_note(comment: str | None) -> LocalizedText | None:
    return LocalizedText(fr=comment, nl=comment, en=comment) if comment else None


def _with_comment(reason: LocalizedText, comment: str | None) -> LocalizedText:
    """The localized reason followed by the agent's own words (written in one language, shown in every one)."""
    if not comment:
        return reason
    return LocalizedText(fr=f"{reason.fr} {comment}", nl=f"{reason.nl} {comment}", en=f"{reason.en} {comment}")


def _with_entry(case: Case, event: str, **changes: Any) -> Case:
    return case.with_entry(event, actor=SYSTEM_ACTOR, at=_now(), **changes)


def _reject(case: Case, reason_code: str) -> Case:
    reason = get_messages().reason(reason_code)
    return _with_entry(case, "rejected", status=CaseStatus.REJECTED, note=reason, reason=reason)


class RequestValidation:
    """The step ``validate_request``: the submitted form against its procedure, as it stood on the day."""

    def __init__(self, cases: Cases, catalogue: Catalogue) -> None:
        self._cases = cases
        self._catalogue = catalogue

    def validate_request(self, case_id: str) -> Case:
        """submitted -> in_progress, or rejected when the form no longer satisfies the procedure."""

        def change(case: Case) -> Case | None:
            if case.status is not CaseStatus.SUBMITTED:
                return None  # already done (a retry), or closed meanwhile
            procedure = self._catalogue.get(case.procedure_id)
            try:
                validate_form(
                    procedure,
                    case.form,
                    uploads_owner=case.uploads_owner,
                    rules=procedure.form_rules,
                    today=brussels_date(case.created_at),  # the rules as they stood on the day it was submitted
                )
            except ValidationFailedError:
                return _reject(case, "invalid_form")
            return _with_entry(case, "validated", status=CaseStatus.IN_PROGRESS)

        return self._cases.update(case_id, change)


class EligibilityCheck:
    """The step ``check_eligibility``: the applicant against the procedure's rules, in the registers."""

    def __init__(self, cases: Cases, catalogue: Catalogue, registers: Registers) -> None:
        self._cases = cases
        self._catalogue = catalogue
        self._registers = registers

    def check_eligibility(self, case_id: str) -> EligibilityBranch:
        """``eligible`` (go on), ``review`` (an agent decides first), ``rejected`` (tell the citizen why) or
        ``closed`` (the case ended meanwhile)."""

        def change(case: Case) -> Case | None:
            if case.status is not CaseStatus.IN_PROGRESS or case.has_event("eligibility_confirmed"):
                return None
            verdict = check(self._catalogue.get(case.procedure_id), case, self._registers)
            if not verdict.eligible:
                return _reject(case, verdict.reason or "not_in_register")
            return _with_entry(case, "eligibility_confirmed")

        case = self._cases.update(case_id, change)
        if case.status is CaseStatus.IN_PROGRESS:
            review = Review.settings(self._catalogue.get(case.procedure_id))
            if review is not None and needs_review(review.when, case, self._registers):
                return "review"
            return "eligible"
        return "rejected" if case.status is CaseStatus.REJECTED else "closed"


class HumanSteps:
    """The steps ``open_task`` and ``record_decision``: the human step a procedure's review capability declares,
    queued for its department, and the decision the agent's completion recorded on the task."""

    def __init__(self, cases: Cases, catalogue: Catalogue, tasks: Tasks) -> None:
        self._cases = cases
        self._catalogue = catalogue
        self._tasks = tasks

    def open_task(self, case_id: str, task_token: str) -> AgentTask:
        """Queue the procedure's human step for its department; the case waits until an agent completes it."""
        case = self._cases.get(case_id)
        procedure = self._catalogue.get(case.procedure_id)
        review = Review.settings(procedure)
        if review is None:
            raise StepInputError(f"procedure {procedure.id} has no human step")
        task = self._tasks.open(
            AgentTask(
                task_id=task_id_for(case.case_id, review.kind),
                case_id=case.case_id,
                reference=case.reference,
                procedure_id=procedure.id,
                department=handling_department(procedure, case.form),
                kind=review.kind,
                outcomes=review.outcomes,
                approving=review.approving,
                comment_required=review.comment_required,
                instructions=review.instructions,
                created_at=_now(),
                due_on=sla.due_on(case, procedure),
                task_token=task_token,
            )
        )
        if task.status.is_pending and task.task_token != task_token:
            # A retried step waits on a new token: the agent's decision must reach this one, not the dead one.
            task = self._tasks.save(task.model_copy(update={"task_token": task_token}))

        def change(current: Case) -> Case | None:
            if current.status is not CaseStatus.IN_PROGRESS:
                return None
            return _with_entry(current, f"task_opened:{review.kind}", status=CaseStatus.WAITING)

        case = self._cases.update(case_id, change)
        if case.status is CaseStatus.CANCELLED:
            # Cancelled while the task was being opened (the cancellation may not have seen it): the task leaves the
            # queue and the wait ends, as the cancellation would have done (the state machine catches the error).
            if task.status.is_pending:
                with contextlib.suppress(ConflictError):
                    self._tasks.save(closed_undecided(task, TaskStatus.CANCELLED, _now(), SYSTEM_ACTOR))
            raise CaseCancelledError(f"case {case_id} was cancelled")
        if case.status is CaseStatus.FAILED:
            # Failed while the task was being opened (the failure could not close a task not yet there): the task
            # leaves the queue as mark_failed would have closed it, and the step fails (MarkFailed finds it done).
            if task.status.is_pending:
                closed = closed_undecided(task, TaskStatus.FAILED, _now(), SYSTEM_ACTOR)
                with contextlib.suppress(ConflictError):
                    self._tasks.save(closed, along=self._cases.audit_items(case, [task_closed(closed)]))
            raise StepInputError(f"case {case_id} failed: no task waits for an agent")
        return task

    def record_decision(self, case_id: str, task_id: str, outcome: str) -> DecisionBranch:
        """The agent's decision on the case: approved (the workflow goes on) or refused (rejected, with why).

        The execution hands over only the task's id and the outcome (what it carries stays in its history for 90
        days): who decided and their comment are read from the task, which the agent's completion recorded before
        it resumed the execution. A task that does not hold this decision is a StepInputError (the case fails,
        visible to agents)."""
        task = self._decided_task(case_id, task_id, outcome)
        agent, comment = task.completed_by or SYSTEM_ACTOR, task.comment

        def change(case: Case) -> Case | None:
            procedure = self._catalogue.get(case.procedure_id)
            review = Review.settings(procedure)
            if case.status not in (CaseStatus.WAITING, CaseStatus.AWAITING_CITIZEN) or review is None:
                return None
            if outcome not in review.outcomes:
                raise StepInputError(f"outcome {outcome!r} is not one of {review.outcomes}")
            event, now = f"decided:{outcome}", _now()
            # Decided without the citizen's answer to a question (none came): the clock runs again, up to now.
            case = sla.resume(case, now, procedure)
            if outcome in review.approving:
                note = _comment_note(comment)
                return case.with_entry(
                    event, actor=agent, at=now, status=CaseStatus.IN_PROGRESS, note=note, outcome=outcome
                )
            reason = _with_comment(get_messages().reason("refused_after_review"), comment)
            return case.with_entry(event, actor=agent, at=now, status=CaseStatus.REJECTED, note=reason, reason=reason)

        case = self._cases.update(case_id, change)
        if case.status is CaseStatus.IN_PROGRESS:
            return "approved"
        return "refused" if case.status is CaseStatus.REJECTED else "closed"

    def _decided_task(self, case_id: str, task_id: str, outcome: str) -> AgentTask:
        """The completed task of ``case_id`` holding the decision ``outcome``."""
        try:
            task = self._tasks.get(task_id)
        except NotFoundError:
            raise StepInputError(f"no task {task_id!r}") from None
        if task.case_id != case_id:
            raise StepInputError(f"task {task_id} is not a task of case {case_id}")
        if task.status is not TaskStatus.COMPLETED or task.outcome != outcome:
            raise StepInputError(f"task {task_id} is {task.status.value}: it holds no decision {outcome!r}")
        return task


class DocumentIssuing:
    """The step ``render_document``: the procedure's document, rendered, sealed, stored and attached to the case."""

    def __init__(
        self,
        cases: Cases,
        catalogue: Catalogue,
        registers: Registers,
        renderer: Renderer,
        sealer: DocumentSealer,
        store: PdfStore,
        *,
        portal_url: str,
    ) -> None:
        self._cases = cases
        self._catalogue = catalogue
        self._registers = registers
        self._renderer = renderer
        self._sealer = sealer
        self._store = store
        self._portal_url = portal_url  # each document prints its verification page there (text and QR code)

    def render_document(self, case_id: str) -> Case:
        """Render the procedure's document in the case's language, seal it, store it, attach it to the case.

        The case's ``sha256`` is the digest of exactly the bytes stored, the ones a citizen downloads. Sealing is not
        deterministic (a signing time, a timestamp), so the first document stored under the document's key stays:
        a retry after the store but before the attachment, or a duplicate execution, attaches that object's digest
        (the store reports it), never its own document's."""
        case = self._cases.get(case_id)
        procedure = self._catalogue.get(case.procedure_id)
        if procedure.document is None:
            raise StepInputError(f"procedure {procedure.id} issues no document")
        if case.status is not CaseStatus.IN_PROGRESS:
            raise StepInputError(f"case {case_id} is {case.status}, not in progress: no document is issued")
        document_id = document_id_for(case.case_id, procedure.document.kind, case.language)
        if case.document(document_id) is not None:
            return case
        context = build_context(
            procedure,
            case,
            self._registers,
            document_id=document_id,
            issued_on=today_in_brussels(),
            verification_url=verification_url(self._portal_url, document_id),
        )
        pdf = self._sealer.seal(self._renderer(procedure.document.template, case.language.value, context))
        key = document_key(case.case_id, document_id)
        sha256 = self._store.put_pdf(key, pdf, reference=case.reference, retention_days=procedure.retention_days)
        self._cases.register_document(document_id, case.case_id)
        document = CaseDocument(
            document_id=document_id,
            kind=procedure.document.kind,
            language=case.language,
            key=key,
            sha256=sha256,
            created_at=_now(),
        )

        def change(current: Case) -> Case | None:
            if current.document(document_id) is not None:
                return None
            return _with_entry(current, "document_issued", documents=[*current.documents, document])

        logger.info("document issued", extra={"case_id": case_id, "document_id": document_id, "bytes": len(pdf)})
        return self._cases.update(case_id, change)


class Notifications:
    """The step ``notify``: an email to the citizen about their case, in its language."""

    def __init__(self, cases: Cases, catalogue: Catalogue, registers: Registers, sender: Mailer) -> None:
        self._cases = cases
        self._catalogue = catalogue
        self._registers = registers
        self._sender = sender

    def notify(self, case_id: str, message: str) -> Case:
        """Email the citizen, at least once: the timeline records it, so a retry after the record does not send
        again (a retry between the send and the record does). An address SES refuses for good is recorded as
        ``notified:<message>:undeliverable`` and the workflow goes on: a notification never fails a case."""
        event = f"notified:{message}"
        case = self._cases.get(case_id)
        if case.has_event(event):
            return case
        if message not in get_messages().emails:
            raise StepInputError(f"unknown message {message!r}")
        if case.applicant.email is None:
            event = f"{event}:no_contact"  # nobody to tell: recorded, so agents see it
        else:
            procedure = self._catalogue.get(case.procedure_id)
            email = compose(message, case, procedure, case.applicant.email, extra=self._email_details(case))
            try:
                self._sender.send(email)
            except DeliveryFailedError as error:
                logger.warning("notification undeliverable", extra={"case_id": case_id, "error": error.message})
                event = f"{event}:undeliverable"
        return self._cases.update(case_id, lambda c: None if c.has_event(event) else _with_entry(c, event), attempts=10)

    def _email_details(self, case: Case) -> dict[str, str]:
        """What an email may add to the case: the postal code and municipality of the applicant's registered address
        (in the case's language; both names in English), never the street."""
        person = None
        if case.applicant.nrn is not None:
            person = self._registers.national.find(case.applicant.nrn)
        if person is None:
            return {"municipality": ""}
        address = person.address
        names = {"fr": address.municipality_fr, "nl": address.municipality_nl}
        bilingual = " / ".join(dict.fromkeys([address.municipality_fr, address.municipality_nl]))
        return {"municipality": f"{address.postal_code} {names.get(case.language.value, bilingual)}"}


class Completion:
    """The step ``complete_case``: the product delivered, the case completed."""

    def __init__(self, cases: Cases) -> None:
        self._cases = cases

    def complete(self, case_id: str, on_delivered: Callable[[Case], None] | None = None) -> Case:
        """in_progress -> completed: the product is delivered (the repository adds it to its day's counters in the
        same write). ``on_delivered`` is called by the call that completed the case, never by a retry after it."""
        delivered = False

        def change(case: Case) -> Case | None:
            nonlocal delivered
            delivered = False
            if case.status is CaseStatus.COMPLETED:
                return None
            if case.status is not CaseStatus.IN_PROGRESS:
                raise StepInputError(f"case {case_id} is {case.status}: it cannot be completed")
            delivered = True
            return _with_entry(case, "completed", status=CaseStatus.COMPLETED)

        case = self._cases.update(case_id, change)
        if delivered and on_delivered is not None:
            on_delivered(case)
        return case


class Failures:
    """The step ``mark_failed`` (every machine's Catch) and the stalled-case sweep: a case whose workflow stopped is
    failed, visible to agents, its waiting task closed with it."""

    def __init__(self, cases: Cases, catalogue: Catalogue, tasks: Tasks, places: Places) -> None:
        self._cases = cases
        self._catalogue = catalogue
        self._closure = Closure(tasks=PendingTaskCloser(tasks, cases), places=places)

    def mark_failed(
        self,
        case_id: str,
        error: str,
        cause: str,
        step: str | None = None,
        on_failed: Callable[[Case], None] | None = None,
        stalled_before: datetime | None = None,
    ) -> Case:
        """The workflow stopped on an error: the case is failed, with the reason, visible to agents.

        Its task, if one still waits (open, claimed, or waiting for the citizen's answer: a wait that timed out, an
        execution stopped), is closed ``failed`` in the same transaction, out of every queue, with an entry in the
        case's audit trail: no task is left to decide for a case nothing will carry on. A case already failed stays
        as it is (the execution-ended event that follows our own Fail state, or a retry: the transaction that failed
        it closed its task). A case that reached another outcome (completed, rejected, cancelled) keeps it; the
        error is recorded on its timeline once. The call that failed the case, and only it, then lets the case's
        capabilities give back what its submission reserved (a booked day's place), and calls ``on_failed``.
        ``stalled_before``: only if the case is still in flight and has not moved since then (a step that moves it
        meanwhile wins: the case is left as it is).
        """
        failure = Failure(error=error[:100], cause=cause[:_MAX_CAUSE], step=step)
        failed = False

        def change(case: Case) -> Case | None:
            nonlocal failed
            failed = False
            if stalled_before is not None and (not case.status.is_in_flight or case.updated_at >= stalled_before):
                return None
            if case.status is CaseStatus.FAILED or case.failure == failure:
                return None
            if case.status.is_terminal:
                return _with_entry(case, "workflow_error", failure=failure)
            failed = True
            reason = get_messages().reason("technical_failure")
            return _with_entry(case, "failed", status=CaseStatus.FAILED, note=reason, reason=reason, failure=failure)

        logger.warning("case failed", extra={"case_id": case_id, "error": failure.error, "step": step})
        case = self._cases.update(case_id, change, along=self._closing_task)
        if failed:
            CAPABILITIES.on_failed(self._catalogue.get(case.procedure_id), case, self._closure)  # e.g. the day's place
            if on_failed is not None:
                on_failed(case)
        return case

    def _closing_task(self, current: Case, changed: Case) -> list[dict[str, Any]]:
        """The writes the case's capabilities add to the transaction that fails it (none when ``changed`` does not
        fail it): a review's waiting task is closed, conditional on the version read, with its audit entry."""
        if changed.status is not CaseStatus.FAILED:
            return []
        return CAPABILITIES.closing_writes(self._catalogue.get(changed.procedure_id), changed, self._closure)

    def fail_stalled(
        self, now: datetime, after: timedelta, on_failed: Callable[[Case], None] | None = None, limit: int = 100
    ) -> list[Case]:
        """Mark failed the cases that no step has moved for ``after`` while in flight (submitted or in progress):
        their execution ended without telling (an Express run past its limit, a MarkFailed that gave up, a start that
        never happened). The cases it failed, oldest first; ``limit`` per call (the next round takes the rest)."""
        cutoff = now - after
        failed: list[Case] = []

        def count(case: Case) -> None:
            failed.append(case)
            if on_failed is not None:
                on_failed(case)

        cause = f"no workflow step moved the case for {int(after.total_seconds() // 60)} minutes"
        for case in self._cases.in_flight_before(cutoff, limit):
            self.mark_failed(case.case_id, "WorkflowStalled", cause, on_failed=count, stalled_before=cutoff)
        return failed


class PendingTaskCloser:
    """Closes a failed case's pending task (``omnicity.capabilities.base.TaskCloser``): the task's write, conditional on
    the version read, and its audit entry, for the transaction that fails the case."""

    def __init__(self, tasks: Tasks, cases: Cases) -> None:
        self._tasks = tasks
        self._cases = cases

    def closing_writes(self, case: Case, task_id: str) -> list[dict[str, Any]]:
        try:
            task = self._tasks.get(task_id)
        except NotFoundError:
            return []  # not opened yet: open_task finds the case failed and closes the task it opens
        if not task.status.is_pending:
            return []
        put, closed = self._tasks.conditional_put(
            closed_undecided(task, TaskStatus.FAILED, case.updated_at, SYSTEM_ACTOR)
        )
        logger.info("task closed with its case", extra={"case_id": case.case_id, "task_id": task.task_id})
        return [{"Put": put}, *self._cases.audit_items(case, [task_closed(closed)])]
