"""Reading cases: one's own list, a case (its citizen, or an agent of the department that handles it), a document's
link, a case continued by its hand-off code, an anonymous report by its reference, and a document's verification.
No event formats here.
"""

from __future__ import annotations

from datetime import UTC, datetime

from omnicity.adapters.cases import CaseReader, find_case
from omnicity.adapters.documents import DocumentStore
from omnicity.application.ports import CallerLimit, CaseLookups, ReadLog
from omnicity.application.views import CaseList, CaseListItem, CaseView, DocumentUrl, DocumentVerification, TrackView
from omnicity.capabilities.anonymous_reports import AnonymousReports
from omnicity.capabilities.departments import acting_department
from omnicity.catalogue import Catalogue
from omnicity.domain.errors import ForbiddenError, NotFoundError, ValidationFailedError, field_error
from omnicity.domain.handoff import RULE as HANDOFF_CODE_RULE
from omnicity.domain.handoff import normalize as normalize_handoff
from omnicity.domain.handoff import qr_payload as handoff_qr
from omnicity.domain.identity import Principal
from omnicity.domain.models import Applicant, Case, Role


def readable_case(cases: CaseReader, catalogue: Catalogue, principal: Principal, case_id: str) -> Case:
    """The case, if this principal may read it (its citizen, or an agent of the department that handles it:
    ``omnicity.capabilities.departments``); otherwise the same 404 as a case that does not exist."""
    case = find_case(cases, case_id)
    if principal.owns(case.applicant.nrn):
        return case
    if acting_department(principal, catalogue.get(case.procedure_id), case) is not None:
        return case
    raise NotFoundError(f"no case {case_id!r}")


class CaseReads:
    """Every collaborator is required: a function builds this once, at cold start."""

    def __init__(
        self,
        cases: CaseLookups,
        catalogue: Catalogue,
        store: DocumentStore,
        reads: ReadLog,
        handoff_failures: CallerLimit,
        url_ttl_seconds: int,
        portal_url: str,
    ) -> None:
        self._cases = cases
        self._catalogue = catalogue
        self._store = store
        self._reads = reads
        self._handoff_failures = handoff_failures
        self._url_ttl = url_ttl_seconds
        self._portal_url = portal_url

    def list_own(self, principal: Principal, limit: int, cursor: str | None) -> CaseList:
        if principal.role is not Role.CITIZEN or principal.nrn is None:
            raise ForbiddenError("only citizens have a list of their own cases")
        cases, next_cursor = self._cases.list_for_citizen(principal.nrn, limit, cursor)
        return CaseList(items=[CaseListItem.of(case) for case in cases], next_cursor=next_cursor)

    def get(self, principal: Principal, case_id: str, reason: str | None = None) -> CaseView:
        """The case, for its citizen or an agent of the department that handles it (an agent's read is logged
        first)."""
        case = readable_case(self._cases, self._catalogue, principal, case_id)
        self._log_read(principal, case, reason or "case view")
        return self._view(case, for_agent=principal.role is Role.AGENT)

    def document_url(
        self, principal: Principal, case_id: str, document_id: str, reason: str | None = None
    ) -> DocumentUrl:
        case = readable_case(self._cases, self._catalogue, principal, case_id)
        document = case.document(document_id)
        if document is None:
            raise NotFoundError(f"no document {document_id!r} on this case")
        self._log_read(principal, case, reason or "document download")
        return DocumentUrl(url=self._store.presigned_url(document.key, self._url_ttl), expires_in=self._url_ttl)

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
        caller = f"citizen:{principal.nrn}"
        self._handoff_failures.check(caller)
        try:
            case = self._cases.get_by_handoff(canonical)
        except NotFoundError:
            self._handoff_failures.hit(caller)
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
            self._handoff_failures.hit(caller)
            raise NotFoundError("no case for this hand-off code")
        return self._view(case, for_agent=False)

    def track(self, reference: str) -> TrackView:
        """Where an anonymous report stands, for whoever holds its reference (other cases are not public)."""
        try:
            case = self._cases.get_by_reference(reference)
        except NotFoundError:
            raise NotFoundError(f"no report {reference!r}") from None
        if not AnonymousReports.is_public(self._catalogue.get(case.procedure_id)):
            raise NotFoundError(f"no report {reference!r}")
        return TrackView.of(case)

    def verify_document(self, document_id: str) -> DocumentVerification:
        """A document's verification code (printed on it) confirms it was issued by the city, and its digest; and
        whether it still holds (not revoked, not on a cancelled case) or since when it does not."""
        try:
            case = self._cases.get_by_document(document_id)
        except NotFoundError:
            raise NotFoundError(f"no document {document_id!r}") from None
        document = case.document(document_id)
        procedure = self._catalogue.get(case.procedure_id)
        if document is None or procedure.document is None:
            raise NotFoundError(f"no document {document_id!r}")
        return DocumentVerification.of(case, document, procedure.document.title)

    def _view(self, case: Case, *, for_agent: bool) -> CaseView:
        view = CaseView.of(case, for_agent=for_agent)
        if case.handoff_code is None:
            return view
        return view.model_copy(update={"handoff_qr": handoff_qr(case.handoff_code, self._portal_url)})

    def _log_read(self, principal: Principal, case: Case, reason: str) -> None:
        if principal.role is Role.AGENT:
            self._reads.record_read(principal, case, reason)
