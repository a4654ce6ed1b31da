"""The API's use cases: submit a case, list and read one's cases, hand out a document. No event formats here."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from omnicity import aws
from omnicity.cases import CaseRepository
from omnicity.catalogue import Catalogue
from omnicity.city import get_messages
from omnicity.documents import DocumentStore, Uploads, UploadSlot
from omnicity.errors import (
    ConfigurationError,
    ForbiddenError,
    NotFoundError,
    TransientError,
    ValidationFailedError,
    field_error,
)
from omnicity.forms import validate_form
from omnicity.identity import Principal
from omnicity.models import (
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
from omnicity.observability import logger
from omnicity.views import (
    CaseCreated,
    CaseList,
    CaseSummary,
    CaseView,
    DocumentUrl,
    ReportRequest,
    SubmitCaseRequest,
    TrackView,
    UploadRequest,
)

StateMachineFor = Callable[[str], str]


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
    ) -> None:
        self._cases = repository
        self._catalogue = catalogue
        self._starter = starter
        self._store = store
        self._prefix = reference_prefix
        self._url_ttl = url_ttl_seconds
        self._uploads = uploads

    def submit(self, principal: Principal, request: SubmitCaseRequest) -> CaseCreated:
        if principal.role is not Role.CITIZEN or principal.nrn is None:
            raise ForbiddenError("only a signed-in citizen can submit a case for themselves")
        procedure = self._catalogue.get(request.procedure_id)
        if principal.channel not in procedure.channels:
            raise ForbiddenError(f"{procedure.id} cannot be requested on the {principal.channel.value} channel")
        form = validate_form(procedure, request.form, uploads_owner=principal.uploads_owner, rules=procedure.form_rules)
        self._check_photos_uploaded(procedure, form)
        applicant = Applicant(nrn=principal.nrn, email=principal.email)
        return self._open(procedure, applicant, principal.channel, request.language, form, principal)

    def upload_slot(self, principal: Principal, request: UploadRequest) -> UploadSlot:
        if principal.role is not Role.CITIZEN:
            raise ForbiddenError("only signed-in citizens upload photos")
        return self._need_uploads().slot(principal.uploads_owner, request.content_type)

    def _check_photos_uploaded(self, procedure: Procedure, form: dict[str, Any]) -> None:
        photo_fields = [field.name for field in procedure.fields if field.type is FieldType.PHOTOS]
        problems = []
        for name in photo_fields:
            keys = list(form.get(name, []))
            if not keys:
                continue
            missing = set(self._need_uploads().missing(keys))
            problems += [
                field_error(f"form.{name}[{index}]", "no such upload (upload the photo first)")
                for index, key in enumerate(keys)
                if key in missing
            ]
        if problems:
            raise ValidationFailedError("the form has invalid fields", problems)

    def _need_uploads(self) -> Uploads:
        if self._uploads is None:
            raise ConfigurationError("this service was built without an uploads store")
        return self._uploads

    def report(self, request: ReportRequest) -> CaseCreated:
        """An anonymous report (an alert): no account, no photos; followed by its reference."""
        procedure = self._catalogue.get(request.procedure_id)
        if not procedure.anonymous:
            raise ForbiddenError(f"{procedure.id} needs you to sign in")
        form = validate_form(procedure, request.form, uploads_owner=None, rules=procedure.form_rules)
        applicant = Applicant(nrn=None, email=request.email)
        return self._open(procedure, applicant, Channel.PORTAL, request.language, form, None)

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
            uploads_owner=principal.uploads_owner if principal else None,
            created_at=now,
            updated_at=now,
        )
        case = self._cases.create(case)
        try:
            self._starter.start(procedure.family, case)
        except TransientError as error:
            self._record_start_failure(case, error)
            raise
        logger.info("case submitted", extra={"case_id": case.case_id, "procedure_id": procedure.id})
        return CaseCreated(case_id=case.case_id, reference=case.reference, status=case.status)

    def list_own(self, principal: Principal, limit: int, cursor: str | None) -> CaseList:
        if principal.role is not Role.CITIZEN or principal.nrn is None:
            raise ForbiddenError("only citizens have a list of their own cases")
        cases, next_cursor = self._cases.list_for_citizen(principal.nrn, limit, cursor)
        items = [CaseSummary.model_validate(case.model_dump(include=set(CaseSummary.model_fields))) for case in cases]
        return CaseList(items=items, next_cursor=next_cursor)

    def get(self, principal: Principal, case_id: str) -> CaseView:
        case = self._readable_case(principal, case_id)
        return CaseView.of(case, for_agent=principal.role is Role.AGENT)

    def document_url(self, principal: Principal, case_id: str, document_id: str) -> DocumentUrl:
        case = self._readable_case(principal, case_id)
        document = case.document(document_id)
        if document is None:
            raise NotFoundError(f"no document {document_id!r} on this case")
        return DocumentUrl(url=self._store.presigned_url(document.key, self._url_ttl), expires_in=self._url_ttl)

    def _readable_case(self, principal: Principal, case_id: str) -> Case:
        """The case, if this principal may read it (its citizen, or an agent of the procedure's department);
        otherwise the same 404 as a case that does not exist."""
        not_found = NotFoundError(f"no case {case_id!r}")
        try:
            uuid.UUID(case_id)
        except ValueError:
            raise not_found from None
        try:
            case = self._cases.get(case_id)
        except NotFoundError:
            raise not_found from None
        if principal.owns(case.applicant.nrn) or self._serves(principal, case):
            return case
        raise not_found

    def _serves(self, principal: Principal, case: Case) -> bool:
        """Agents read the cases of the procedures their departments handle, and no others."""
        if principal.role is not Role.AGENT:
            return False
        return self._catalogue.get(case.procedure_id).department in principal.departments

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
