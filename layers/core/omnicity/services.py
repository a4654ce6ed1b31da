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
from omnicity.documents import DocumentStore
from omnicity.errors import ForbiddenError, NotFoundError, TransientError
from omnicity.forms import validate_form
from omnicity.identity import Principal
from omnicity.models import Applicant, Case, CaseStatus, Failure, Role, TimelineEntry, today_in_brussels
from omnicity.observability import logger
from omnicity.views import CaseCreated, CaseList, CaseSummary, CaseView, DocumentUrl, SubmitCaseRequest

StateMachineFor = Callable[[str], str]


class WorkflowStarter:
    """Starts a procedure's state machine; the execution is named after the case (one execution per case)."""

    def __init__(self, state_machine_for: StateMachineFor, client: Any | None = None) -> None:
        self._state_machine_for = state_machine_for
        self._client = client

    def start(self, family: str, case: Case) -> None:
        from botocore.exceptions import ClientError

        client = self._client or aws.stepfunctions()
        try:
            client.start_execution(
                stateMachineArn=self._state_machine_for(family),
                name=case.case_id,
                input=json.dumps({"case_id": case.case_id, "procedure_id": case.procedure_id}),
            )
        except ClientError as exc:
            if aws.error_code(exc) == "ExecutionAlreadyExists":
                return
            raise TransientError("the workflow could not be started") from exc


class CaseService:
    def __init__(
        self,
        repository: CaseRepository,
        catalogue: Catalogue,
        starter: WorkflowStarter,
        store: DocumentStore,
        reference_prefix: str,
        url_ttl_seconds: int,
    ) -> None:
        self._cases = repository
        self._catalogue = catalogue
        self._starter = starter
        self._store = store
        self._prefix = reference_prefix
        self._url_ttl = url_ttl_seconds

    def submit(self, principal: Principal, request: SubmitCaseRequest) -> CaseCreated:
        if principal.role is not Role.CITIZEN or principal.nrn is None:
            raise ForbiddenError("only a signed-in citizen can submit a case for themselves")
        procedure = self._catalogue.get(request.procedure_id)
        if principal.channel not in procedure.channels:
            raise ForbiddenError(f"{procedure.id} cannot be requested on the {principal.channel.value} channel")
        form = validate_form(procedure, request.form)
        now = datetime.now(UTC)
        case = Case(
            case_id=str(uuid.uuid4()),
            reference=self._cases.next_reference(today_in_brussels().year, self._prefix),  # the city's year
            procedure_id=procedure.id,
            applicant=Applicant(nrn=principal.nrn, email=principal.email),
            channel=principal.channel,
            language=request.language,
            form=form,
            status=CaseStatus.SUBMITTED,
            timeline=[TimelineEntry(at=now, status=CaseStatus.SUBMITTED, event="submitted", actor=principal.actor)],
            submitted_by=principal.actor,
            created_at=now,
            updated_at=now,
        )
        case = self._cases.create(case)
        try:
            self._starter.start(procedure.family, case)
        except TransientError:
            self._record_start_failure(case)
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

    def _record_start_failure(self, case: Case) -> None:
        """Never leave a case that no workflow will move: mark it failed, visible to agents."""
        reason = get_messages().reason("technical_failure")
        failure = Failure(error="WorkflowNotStarted", cause="start_execution failed", step="submit")
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
