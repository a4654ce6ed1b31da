"""Revoking an issued document: an agent of the department that handles a case withdraws a document the case issued
(a permit whose conditions no longer hold, a certificate issued in error), with a reason its citizen reads.

- **Who.** Only an agent of the case's handling department (``omnicity.capabilities.departments``). A citizen or a
  kiosk gets 403 (no back office); any other agent the 404 of a case that does not exist; a document the case did not
  issue is a 404 too (``no document ... on this case``), told only to the agents who handle the case.
- **What.** A document's state is data on it (``CaseDocument.revoked_at`` and ``revocation_reason``): the case's
  status does not move. One transaction, conditional on the case's version (retried from a fresh read when a step
  moved the case meanwhile), holds the document revoked, a ``document_revoked`` line on the case's timeline by the
  agent with the reason as its note (the citizen sees it on their case), and an entry in the case's audit trail (kind
  ``revocation``: who, for which department, when, which document, why).
- **Once.** The same reason again (a double click, a retried request) writes nothing and answers the revocation as it
  stands. Another reason is a 409 (``already_revoked``): the first revocation stands, as its citizen was told it. A
  revocation is never undone: a document issued again is a new case's.
- **The citizen is told** by email in the case's language (``document_revoked``), once, after the write, when their
  address is known. An email that fails is logged; the revocation stands and the case shows it.
- **Whoever verifies the document** by its code (``GET /v1/documents/{document_id}``) is told it is revoked and since
  when, never why (``omnicity.application.views.DocumentVerification``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from omnicity.adapters.audit import DOCUMENT_REVOKED, document_revoked
from omnicity.adapters.notifications import compose
from omnicity.application.back_office import handled_case
from omnicity.application.ports import AuditedCases, Mailer
from omnicity.application.views import DocumentView, RevokedDocument, RevokeDocumentRequest
from omnicity.catalogue import Catalogue
from omnicity.domain.errors import (
    AlreadyRevokedError,
    DeliveryFailedError,
    ForbiddenError,
    NotFoundError,
    TransientError,
)
from omnicity.domain.identity import Principal
from omnicity.domain.models import Case, CaseDocument, LocalizedText, Procedure, Role, brussels_date
from omnicity.observability import logger


class Revocations:
    """Every collaborator is required: a function builds this once, at cold start."""

    def __init__(self, cases: AuditedCases, catalogue: Catalogue, mailer: Mailer) -> None:
        self._cases = cases
        self._catalogue = catalogue
        self._mailer = mailer

    def revoke(
        self, principal: Principal, case_id: str, document_id: str, request: RevokeDocumentRequest
    ) -> RevokedDocument:
        """Revoke the case's document ``document_id`` because of ``request.reason`` (see the module's rules)."""
        if principal.role is not Role.AGENT:
            raise ForbiddenError("only agents revoke a case's documents")
        case, procedure, department = handled_case(self._cases, self._catalogue, principal, case_id)
        _document(case, document_id)  # a document the case did not issue: 404 before anything is written
        reason, at = request.reason, datetime.now(UTC)
        written = False  # whether the last run of ``revoke`` (the one stored or kept) revoked the document

        def revoke(current: Case) -> Case | None:
            nonlocal written
            document = _document(current, document_id)
            written = False
            if document.revoked_at is not None:
                if document.revocation_reason == reason:
                    return None
                raise AlreadyRevokedError(
                    f"document {document_id!r} was revoked on {brussels_date(document.revoked_at)} for another reason: "
                    "that revocation stands"
                )
            revoked = document.model_copy(update={"revoked_at": at, "revocation_reason": reason})
            written = True
            return current.with_entry(
                DOCUMENT_REVOKED,
                actor=principal.actor,
                at=at,
                note=LocalizedText(fr=reason, nl=reason, en=reason),  # the agent's words, in the case's language
                documents=[revoked if item.document_id == document_id else item for item in current.documents],
            )

        def entry(_: Case, revoked: Case) -> list[dict[str, Any]]:
            record = document_revoked(
                revoked, actor=principal.actor, department=department, document_id=document_id, reason=reason, at=at
            )
            return self._cases.audit_items(revoked, [record])

        stored = self._cases.update(case.case_id, revoke, along=entry)
        document = _document(stored, document_id)
        if written:
            logger.info(
                "document revoked", extra={"case_id": case_id, "document_id": document_id, "department": department}
            )
            self._tell_citizen(stored, procedure, document)
        return RevokedDocument(
            case_id=stored.case_id,
            reference=stored.reference,
            document=DocumentView.model_validate(document.model_dump()),
        )

    def _tell_citizen(self, case: Case, procedure: Procedure, document: CaseDocument) -> None:
        """An email saying the document no longer holds, and why; the revocation is on the case whatever becomes of
        it."""
        if not case.applicant.email or document.revoked_at is None:
            return
        language = case.language
        title = procedure.document.title if procedure.document is not None else procedure.title
        extra = {
            "document": title.in_language(language),
            "revoked_on": f"{brussels_date(document.revoked_at):%d/%m/%Y}",
            "revocation_reason": document.revocation_reason or "",
        }
        try:
            self._mailer.send(compose("document_revoked", case, procedure, case.applicant.email, extra))
        except (DeliveryFailedError, TransientError):
            logger.exception("the revocation could not be emailed", extra={"case_id": case.case_id})


def _document(case: Case, document_id: str) -> CaseDocument:
    """The case's document ``document_id`` (a case's documents are never removed: it is there once issued)."""
    document = case.document(document_id)
    if document is None:
        raise NotFoundError(f"no document {document_id!r} on this case")
    return document
