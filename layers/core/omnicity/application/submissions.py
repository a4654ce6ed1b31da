"""Submitting a case: a citizen's own (portal, kiosk), one an agent opens at the counter for a citizen, or an
anonymous report; the days a booking procedure offers; upload slots for photos. No event formats here.

A submission runs in this order, so that a refused one leaves nothing behind:

1. the procedure, the channel and who the case is for are checked, then the form (422 naming each field);
2. each capability of the procedure checks what it adds to the form (``form_problems``: a day that can be booked,
   photos that were uploaded), still before any write;
3. the case gets its reference, each capability reserves what it holds (``reserve``: a place on the day, 409 when
   full), the case is stored and its workflow started;
4. if storing or starting fails, what was reserved is released (``release``): no place is lost. A workflow that
   cannot start leaves the case ``failed``, visible to agents, never ``submitted`` with nothing to move it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from omnicity.adapters.documents import Uploads, UploadSlot
from omnicity.adapters.executions import WorkflowStarter
from omnicity.application.ports import CallerLimit, NewCases
from omnicity.application.views import CaseCreated, ReportRequest, SubmitCaseRequest, UploadRequest
from omnicity.capabilities.anonymous_reports import AnonymousReports
from omnicity.capabilities.base import CAPABILITIES, Places, Submission
from omnicity.capabilities.booking import SlotList, open_slots
from omnicity.capabilities.departments import handling_department
from omnicity.catalogue import Catalogue
from omnicity.domain.city import get_city, get_messages
from omnicity.domain.errors import ForbiddenError, OmnicityError, TransientError, ValidationFailedError, field_error
from omnicity.domain.handoff import new_code as new_handoff_code
from omnicity.domain.identity import Principal
from omnicity.domain.models import (
    SYSTEM_ACTOR,
    Applicant,
    Case,
    CaseStatus,
    Channel,
    Failure,
    Language,
    Procedure,
    Role,
    TimelineEntry,
    today_in_brussels,
)
from omnicity.forms.validation import validate_form
from omnicity.observability import logger


class Submissions:
    """New cases. Every collaborator is required: a function builds this once, at cold start."""

    def __init__(
        self,
        cases: NewCases,
        catalogue: Catalogue,
        starter: WorkflowStarter,
        places: Places,
        uploads: Uploads,
        report_limit: CallerLimit,
    ) -> None:
        self._cases = cases
        self._catalogue = catalogue
        self._starter = starter
        self._context = Submission(places=places, uploads=uploads)  # what the capabilities' hooks are given
        self._uploads = uploads
        self._report_limit = report_limit

    def submit(self, principal: Principal, request: SubmitCaseRequest) -> CaseCreated:
        """A citizen's own case (portal, kiosk), or one an agent opens at the counter for the citizen it names."""
        procedure = self._catalogue.get(request.procedure_id)
        applicant = self._applicant_of(principal, procedure, request.citizen_nrn, request.form)
        if principal.channel not in procedure.channels:
            raise ForbiddenError(f"{procedure.id} cannot be requested on the {principal.channel.value} channel")
        form = validate_form(procedure, request.form, uploads_owner=principal.uploads_owner, rules=procedure.form_rules)
        return self._open(procedure, applicant, principal.channel, request.language, form, principal)

    def report(self, request: ReportRequest, caller: str) -> CaseCreated:
        """An anonymous report (an alert): no account, no photos; followed by its reference.

        ``caller`` is who sends it, as far as an anonymous request tells
        (``omnicity.adapters.throttle.caller_of_address``): each caller files at most ``report_limit``'s number of
        reports per window, every further one is a 429. Only a report that would be filed counts (an invalid one
        costs the city nothing)."""
        procedure = self._catalogue.get(request.procedure_id)
        AnonymousReports.check_report(procedure)
        form = validate_form(procedure, request.form, uploads_owner=None, rules=procedure.form_rules)
        self._report_limit.hit(caller)
        applicant = Applicant(nrn=None, email=request.email)
        return self._open(procedure, applicant, Channel.PORTAL, request.language, form, None)

    def upload_slot(self, principal: Principal, request: UploadRequest) -> UploadSlot:
        if principal.role is not Role.CITIZEN:
            raise ForbiddenError("only signed-in citizens upload photos")
        return self._uploads.slot(principal.uploads_owner, request.content_type)

    def open_slots(self, procedure_id: str) -> SlotList:
        """The days one can book now for a procedure that books one (404 for any other)."""
        return open_slots(self._catalogue.get(procedure_id), self._context.places)

    @staticmethod
    def _applicant_of(
        principal: Principal, procedure: Procedure, citizen_nrn: str | None, form: dict[str, Any]
    ) -> Applicant:
        """Who the case is for: the signed-in citizen, or the citizen an agent names at the counter. An agent opens
        the cases their department would handle (``omnicity.capabilities.departments``: the form's routing decides),
        or any case as an agent of the counter."""
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
        problems = CAPABILITIES.form_problems(procedure, form, self._context)
        if problems:
            raise ValidationFailedError("the form has invalid fields", problems)  # 422 before any write
        now = datetime.now(UTC)
        actor = principal.actor if principal else "anonymous"
        case = Case(
            case_id=str(uuid.uuid4()),
            reference=self._cases.next_reference(today_in_brussels().year, get_city().reference_prefix),
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
            public=AnonymousReports.is_public(procedure),
            created_at=now,
            updated_at=now,
        )
        reserved = CAPABILITIES.reserve(procedure, case, self._context)  # e.g. the day's place (409 when full)
        try:
            case = self._cases.create(case)
            try:
                self._starter.start(procedure.family, case)
            except TransientError as error:
                self._record_start_failure(case, error)
                raise
        except Exception:
            try:
                CAPABILITIES.release(procedure, case, self._context, reserved)
            except OmnicityError:  # the submission's own error is the one to report
                logger.exception("a reservation could not be released", extra={"case_id": case.case_id})
            raise
        logger.info("case submitted", extra={"case_id": case.case_id, "procedure_id": procedure.id})
        return CaseCreated(
            case_id=case.case_id, reference=case.reference, status=case.status, handoff_code=case.handoff_code
        )

    def _record_start_failure(self, case: Case, error: TransientError) -> None:
        """Never leave a case that no workflow will move: mark it failed, visible to agents."""
        reason = get_messages().reason("technical_failure")
        failure = Failure(error="WorkflowNotStarted", cause=error.message, step="submit")
        failed = case.with_entry(
            "failed",
            actor=SYSTEM_ACTOR,
            at=datetime.now(UTC),
            status=CaseStatus.FAILED,
            note=reason,
            reason=reason,
            failure=failure,
        )
        self._cases.save(failed)
