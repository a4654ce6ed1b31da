"""The API's use cases: submit a case, list and read one's cases, hand out a document. No event formats here."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any, Protocol

from omnicity import aws
from omnicity.adapters.cases import CaseRepository, find_case
from omnicity.adapters.documents import DocumentStore, Uploads, UploadSlot
from omnicity.adapters.slots import NotCancellableError, SlotBook, SlotList, booked_day
from omnicity.application.views import (
    CaseCreated,
    CaseList,
    CaseListItem,
    CaseView,
    DocumentUrl,
    DocumentVerification,
    ReportRequest,
    SubmitCaseRequest,
    TrackView,
    UploadRequest,
)
from omnicity.capabilities.departments import acting_department, handling_department
from omnicity.catalogue import Catalogue
from omnicity.catalogue.city import get_messages
from omnicity.domain.errors import (
    ConfigurationError,
    ForbiddenError,
    NotFoundError,
    OmnicityError,
    TransientError,
    ValidationFailedError,
    field_error,
)
from omnicity.domain.handoff import RULE as HANDOFF_CODE_RULE
from omnicity.domain.handoff import new_code as new_handoff_code
from omnicity.domain.handoff import normalize as normalize_handoff
from omnicity.domain.handoff import qr_payload as handoff_qr
from omnicity.domain.identity import Principal
from omnicity.domain.models import (
    Applicant,
    Case,
    CaseStatus,
    Channel,
    Failure,
    FieldType,
    Language,
    Procedure,
    Role,
    TimelineEntry,
    today_in_brussels,
)
from omnicity.forms.validation import validate_form
from omnicity.observability import logger

StateMachineFor = Callable[[str], str]


class TaskWithdrawal(Protocol):
    """Takes a cancelled case's open task out of its queue and ends the workflow waiting on it
    (omnicity.application.desk)."""

    def withdraw(self, case_id: str, kind: str, actor: str) -> None: ...


class CallerLimit(Protocol):
    """How often one caller may do something (``omnicity.adapters.throttle.CallerLimit``): ``hit`` counts an attempt,
    ``check`` only looks; both raise TooManyRequestsError (429) once the caller's window is used up."""

    def hit(self, caller: str) -> None: ...

    def check(self, caller: str) -> None: ...


class ReadLog(Protocol):
    """Logs an agent's read of a case in its audit trail; nothing for anyone else (omnicity.application.back_office)."""

    def record_read(self, principal: Principal, case: Case, reason: str) -> None: ...


class WorkflowStarter:
    """Starts a procedure's state machine; the execution is named after the case (one execution per case)."""

    def __init__(self, state_machine_for: StateMachineFor, client: Any | None = None) -> None:
        self._state_machine_for = state_machine_for
        self._client = client

    def check_configured(self, family: str) -> None:
        """Fail (ConfigurationError) before anything is stored when the family has no state machine."""
        self._state_machine_for(family)

    def start(self, family: str, case: Case) -> None:
        """Start the case's execution; one that already exists is a success (a retried start).

        Any AWS failure to start, transient or not, is a TransientError: ``CaseService.submit`` then records the
        case as failed instead of leaving it ``submitted`` with no workflow to move it.
        """
        from botocore.exceptions import BotoCoreError, ClientError

        state_machine_arn = self._state_machine_for(family)
        client = self._client or aws.stepfunctions()
        try:
            client.start_execution(
                stateMachineArn=state_machine_arn,
                name=case.case_id,
                input=json.dumps({"case_id": case.case_id, "procedure_id": case.procedure_id}),
            )
        except (ClientError, BotoCoreError) as exc:
            code = aws.error_code(exc)
            if code == "ExecutionAlreadyExists":
                return
            raise TransientError(f"the workflow could not be started ({code or type(exc).__name__})") from exc


class CaseService:
    def __init__(
        self,
        repository: CaseRepository,
        catalogue: Catalogue,
        starter: WorkflowStarter,
        store: DocumentStore,
        reference_prefix: str,
        url_ttl_seconds: int,
        uploads: Uploads | None = None,
        slots: SlotBook | None = None,
        withdrawals: TaskWithdrawal | None = None,
        portal_url: str = "https://my.brussels.example",
        reads: ReadLog | None = None,
        report_limit: CallerLimit | None = None,
        handoff_failures: CallerLimit | None = None,
    ) -> None:
        self._cases = repository
        self._catalogue = catalogue
        self._starter = starter
        self._store = store
        self._prefix = reference_prefix
        self._url_ttl = url_ttl_seconds
        self._uploads = uploads
        self._slots = slots
        self._withdrawals = withdrawals
        self._portal_url = portal_url
        self._reads = reads
        self._report_limit = report_limit
        self._handoff_failures = handoff_failures

    def submit(self, principal: Principal, request: SubmitCaseRequest) -> CaseCreated:
        """A citizen's own case (portal, kiosk), or one an agent opens at the counter for the citizen it names."""
        procedure = self._catalogue.get(request.procedure_id)
        applicant = self._applicant_of(principal, procedure, request.citizen_nrn, request.form)
        if principal.channel not in procedure.channels:
            raise ForbiddenError(f"{procedure.id} cannot be requested on the {principal.channel.value} channel")
        form = validate_form(procedure, request.form, uploads_owner=principal.uploads_owner, rules=procedure.form_rules)
        self._check_photos_uploaded(procedure, form)
        return self._open(procedure, applicant, principal.channel, request.language, form, principal)

    @staticmethod
    def _applicant_of(
        principal: Principal, procedure: Procedure, citizen_nrn: str | None, form: dict[str, Any]
    ) -> Applicant:
        """Who the case is for: the signed-in citizen, or the citizen an agent names at the counter. An agent opens
        the cases their department would handle (``omnicity.capabilities.departments``: the form's routing decides), or
        any case as an agent of the counter."""
        if principal.role is Role.CITIZEN and principal.nrn is not None:
            if citizen_nrn is not None and citizen_nrn != principal.nrn:
                raise ForbiddenError("a citizen submits for themselves; an agent at the counter for others")
            return Applicant(nrn=principal.nrn, email=principal.email)
        if principal.role is Role.AGENT:
            if citizen_nrn is None:
                raise ValidationFailedError(
                    "at the counter, name the citizen", [field_error("citizen_nrn", "required at the counter")]
                )
            if not {handling_department(procedure, form), "counter"} & principal.departments:
                raise ForbiddenError(f"{procedure.id} is not handled by your departments")
            return Applicant(nrn=citizen_nrn, email=None)  # the citizen is at the desk: no email address claimed
        raise ForbiddenError("a kiosk device submits nothing itself: the citizen signs in at the kiosk")

    def continue_case(self, principal: Principal, code: str) -> CaseView:
        """Continue or follow a case by its hand-off code: one's own case on another channel, or an anonymous
        report, which is then attached to one's account. Anybody else's case is the same 404 as no case.

        A wrong code (no case, or somebody else's) counts against the citizen; once they have tried
        ``handoff_failures``' limit of wrong codes in its window, every code is refused (429, right or wrong) until
        the window ends; a right code does not reset the count, or guesses could go on between one's own codes. A
        mistyped code (its check character does not match) is a 422 before any lookup, and not counted."""
        if principal.role is not Role.CITIZEN or principal.nrn is None:
            raise ForbiddenError("only a signed-in citizen continues a case")
        canonical = normalize_handoff(code)
        if canonical is None:
            raise ValidationFailedError("this is not a hand-off code", [field_error("code", HANDOFF_CODE_RULE)])
        failures, caller = self._need_handoff_failures(), f"citizen:{principal.nrn}"
        failures.check(caller)
        try:
            case = self._cases.get_by_handoff(canonical)
        except NotFoundError:
            failures.hit(caller)
            raise NotFoundError("no case for this hand-off code") from None
        if case.applicant.nrn is None:
            owner = Applicant(nrn=principal.nrn, email=case.applicant.email or principal.email)

            def attach(current: Case) -> Case | None:
                if current.applicant.nrn is not None:
                    return None
                at = datetime.now(UTC)
                return current.with_entry("attached", actor=principal.actor, at=at, applicant=owner)

            case = self._cases.update(case.case_id, attach)
        if not principal.owns(case.applicant.nrn):
            failures.hit(caller)
            raise NotFoundError("no case for this hand-off code")
        return self._view(case, for_agent=False)

    def _view(self, case: Case, *, for_agent: bool) -> CaseView:
        view = CaseView.of(case, for_agent=for_agent)
        if case.handoff_code is None:
            return view
        return view.model_copy(update={"handoff_qr": handoff_qr(case.handoff_code, self._portal_url)})

    def upload_slot(self, principal: Principal, request: UploadRequest) -> UploadSlot:
        if principal.role is not Role.CITIZEN:
            raise ForbiddenError("only signed-in citizens upload photos")
        return self._need_uploads().slot(principal.uploads_owner, request.content_type)

    def _check_photos_uploaded(self, procedure: Procedure, form: dict[str, Any]) -> None:
        """Each photo the form references was uploaded, and is the JPEG or PNG its key says (422 naming it)."""
        photo_fields = [field.name for field in procedure.fields if field.type is FieldType.PHOTOS]
        problems = []
        for name in photo_fields:
            problems += self._need_uploads().unusable(list(form.get(name, [])), f"form.{name}")
        if problems:
            raise ValidationFailedError("the form has invalid fields", problems)

    def _need_uploads(self) -> Uploads:
        if self._uploads is None:
            raise ConfigurationError("this service was built without an uploads store")
        return self._uploads

    def _need_report_limit(self) -> CallerLimit:
        if self._report_limit is None:
            raise ConfigurationError("this service was built without a limit on anonymous reports")
        return self._report_limit

    def _need_handoff_failures(self) -> CallerLimit:
        if self._handoff_failures is None:
            raise ConfigurationError("this service was built without a limit on wrong hand-off codes")
        return self._handoff_failures

    def _need_slots(self) -> SlotBook:
        if self._slots is None:
            raise ConfigurationError("this service was built without a slot book")
        return self._slots

    @contextmanager
    def _holding(self, procedure: Procedure, day: date | None) -> Iterator[None]:
        """Hold a place on ``day`` (None: the procedure books no day) while the case is stored and its workflow
        started; if either fails, the place is given back, so no capacity is lost."""
        if day is None:
            yield
            return
        self._need_slots().book(procedure, day)
        try:
            yield
        except Exception:
            try:
                self._need_slots().free(procedure, day)
            except OmnicityError:  # the submission's own error is the one to report
                logger.exception("a place could not be given back", extra={"day": day.isoformat()})
            raise

    def report(self, request: ReportRequest, caller: str) -> CaseCreated:
        """An anonymous report (an alert): no account, no photos; followed by its reference.

        ``caller`` is who sends it, as far as an anonymous request tells
        (``omnicity.adapters.throttle.caller_of_address``): each caller files at most ``report_limit``'s number of
        reports per window, every further one is a 429. Only a report that would be filed counts (an invalid one costs
        the city nothing)."""
        procedure = self._catalogue.get(request.procedure_id)
        if not procedure.anonymous:
            raise ForbiddenError(f"{procedure.id} needs you to sign in")
        form = validate_form(procedure, request.form, uploads_owner=None, rules=procedure.form_rules)
        self._need_report_limit().hit(caller)
        applicant = Applicant(nrn=None, email=request.email)
        return self._open(procedure, applicant, Channel.PORTAL, request.language, form, None)

    def verify_document(self, document_id: str) -> DocumentVerification:
        """A document's verification code (printed on it) confirms it was issued by the city, and its digest."""
        try:
            case = self._cases.get_by_document(document_id)
        except NotFoundError:
            raise NotFoundError(f"no document {document_id!r}") from None
        document = case.document(document_id)
        procedure = self._catalogue.get(case.procedure_id)
        if document is None or procedure.document is None:
            raise NotFoundError(f"no document {document_id!r}")
        return DocumentVerification(
            document_id=document_id,
            valid=case.status is not CaseStatus.CANCELLED,
            reference=case.reference,
            procedure_id=case.procedure_id,
            title=procedure.document.title,
            kind=document.kind,
            language=document.language,
            issued_at=document.created_at,
            sha256=document.sha256,
        )

    def track(self, reference: str) -> TrackView:
        """Where an anonymous report stands, for whoever holds its reference (other cases are not public)."""
        try:
            case = self._cases.get_by_reference(reference)
        except NotFoundError:
            raise NotFoundError(f"no report {reference!r}") from None
        if not self._catalogue.get(case.procedure_id).anonymous:
            raise NotFoundError(f"no report {reference!r}")
        return TrackView.of(case)

    def _open(
        self,
        procedure: Procedure,
        applicant: Applicant,
        channel: Channel,
        language: Language,
        form: dict[str, Any],
        principal: Principal | None,
    ) -> CaseCreated:
        """Store the case, then start its workflow; a workflow that cannot start leaves the case failed, not lost."""
        self._starter.check_configured(procedure.family)
        day = self._need_slots().chosen_day(procedure, form) if procedure.booking else None  # 422 before any write
        now = datetime.now(UTC)
        actor = principal.actor if principal else "anonymous"
        case = Case(
            case_id=str(uuid.uuid4()),
            reference=self._cases.next_reference(today_in_brussels().year, self._prefix),  # the city's year
            procedure_id=procedure.id,
            applicant=applicant,
            channel=channel,
            language=language,
            form=form,
            status=CaseStatus.SUBMITTED,
            timeline=[TimelineEntry(at=now, status=CaseStatus.SUBMITTED, event="submitted", actor=actor)],
            submitted_by=actor,
            handoff_code=new_handoff_code(),
            uploads_owner=principal.uploads_owner if principal else None,
            public=procedure.anonymous,
            created_at=now,
            updated_at=now,
        )
        with self._holding(procedure, day):  # booking: the day's place is taken first (409 when it is full)
            case = self._cases.create(case)
            try:
                self._starter.start(procedure.family, case)
            except TransientError as error:
                self._record_start_failure(case, error)
                raise
        logger.info("case submitted", extra={"case_id": case.case_id, "procedure_id": procedure.id})
        return CaseCreated(
            case_id=case.case_id, reference=case.reference, status=case.status, handoff_code=case.handoff_code
        )

    def list_own(self, principal: Principal, limit: int, cursor: str | None) -> CaseList:
        if principal.role is not Role.CITIZEN or principal.nrn is None:
            raise ForbiddenError("only citizens have a list of their own cases")
        cases, next_cursor = self._cases.list_for_citizen(principal.nrn, limit, cursor)
        items = [CaseListItem.of(case) for case in cases]
        return CaseList(items=items, next_cursor=next_cursor)

    def get(self, principal: Principal, case_id: str, reason: str | None = None) -> CaseView:
        """The case, for its citizen or an agent of the department that handles it (an agent's read is logged
        first)."""
        case = self._readable_case(principal, case_id)
        self._log_read(principal, case, reason or "case view")
        return self._view(case, for_agent=principal.role is Role.AGENT)

    def document_url(
        self, principal: Principal, case_id: str, document_id: str, reason: str | None = None
    ) -> DocumentUrl:
        case = self._readable_case(principal, case_id)
        document = case.document(document_id)
        if document is None:
            raise NotFoundError(f"no document {document_id!r} on this case")
        self._log_read(principal, case, reason or "document download")
        return DocumentUrl(url=self._store.presigned_url(document.key, self._url_ttl), expires_in=self._url_ttl)

    def open_slots(self, procedure_id: str) -> SlotList:
        """The days one can book now for a procedure that books one (404 for any other)."""
        return self._need_slots().open_slots(self._catalogue.get(procedure_id))

    def cancel(self, principal: Principal, case_id: str) -> CaseView:
        """The citizen cancels their booking (up to two days before it): the case ends ``cancelled``, the day's place
        is freed, and the workflow ends with it (an open field task leaves the queue). Only the case's citizen may;
        to anyone else it is the same 404 as a case that does not exist. Cancelling again answers the cancelled case.
        """
        case = self._readable_case(principal, case_id)
        if not principal.owns(case.applicant.nrn):
            raise NotFoundError(f"no case {case_id!r}")
        procedure = self._catalogue.get(case.procedure_id)
        if procedure.booking is None:
            raise NotCancellableError(f"a {procedure.id} case cannot be cancelled")
        slots, withdrawals = self._need_slots(), self._withdrawals
        if procedure.review is not None and withdrawals is None:
            raise ConfigurationError("this service was built without a task desk")
        day = booked_day(procedure, case.form)
        if case.status is not CaseStatus.CANCELLED:
            if case.status.is_terminal:
                raise NotCancellableError(f"the case is already {case.status.value}")
            slots.check_cancellable(procedure, day)
        cancelled_now = False  # whether this call moved the case to cancelled (then, and only then, frees the place)

        def change(current: Case) -> Case | None:
            nonlocal cancelled_now
            cancelled_now = False
            if current.status is CaseStatus.CANCELLED:
                return None
            if current.status.is_terminal:
                raise NotCancellableError(f"the case is already {current.status.value}")
            cancelled_now = True
            at = datetime.now(UTC)
            return current.with_entry("cancelled", actor=principal.actor, at=at, status=CaseStatus.CANCELLED)

        case = self._cases.update(case_id, change)
        if cancelled_now:
            slots.free(procedure, day)
            logger.info("case cancelled", extra={"case_id": case_id, "procedure_id": procedure.id})
        if procedure.review is not None and withdrawals is not None:  # a repeated call finishes a failed withdrawal
            withdrawals.withdraw(case_id, procedure.review.kind, principal.actor)
        return CaseView.of(case, for_agent=False)

    def _log_read(self, principal: Principal, case: Case, reason: str) -> None:
        if principal.role is Role.AGENT:
            if self._reads is None:
                raise ConfigurationError("this service was built without an audit trail: agents cannot read cases")
            self._reads.record_read(principal, case, reason)

    def _readable_case(self, principal: Principal, case_id: str) -> Case:
        """The case, if this principal may read it (its citizen, or an agent of the department that handles it:
        ``omnicity.capabilities.departments``); otherwise the same 404 as a case that does not exist."""
        case = find_case(self._cases, case_id)
        if principal.owns(case.applicant.nrn):
            return case
        if acting_department(principal, self._catalogue.get(case.procedure_id), case) is not None:
            return case
        raise NotFoundError(f"no case {case_id!r}")

    def _record_start_failure(self, case: Case, error: TransientError) -> None:
        """Never leave a case that no workflow will move: mark it failed, visible to agents."""
        reason = get_messages().reason("technical_failure")
        failure = Failure(error="WorkflowNotStarted", cause=error.message, step="submit")
        failed = case.with_entry(
            "failed",
            actor="system",
            at=datetime.now(UTC),
            status=CaseStatus.FAILED,
            note=reason,
            reason=reason,
            failure=failure,
        )
        self._cases.save(failed)
