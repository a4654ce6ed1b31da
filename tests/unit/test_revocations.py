"""Revoking an issued document (omnicity.application.revocations.Revocations) with in-memory fakes: who may, what is
written (the document, the timeline, the audit trail, in one write), once; what the citizen is told; and what anyone
verifying the document by its code learns (omnicity.application.case_reads.CaseReads.verify_document)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from omnicity.adapters.audit import DOCUMENT_REVOKED, AuditKind
from omnicity.adapters.notifications import Email
from omnicity.application.case_reads import CaseReads
from omnicity.application.revocations import Revocations
from omnicity.application.views import DocumentVerification, RevokeDocumentRequest
from omnicity.catalogue import get_catalogue
from omnicity.domain.errors import (
    AlreadyRevokedError,
    DeliveryFailedError,
    ForbiddenError,
    NotFoundError,
    OmnicityError,
)
from omnicity.domain.identity import Principal
from omnicity.domain.models import (
    Case,
    CaseDocument,
    CaseStatus,
    Channel,
    DocumentStatus,
    Language,
    Role,
    TimelineEntry,
    brussels_date,
)
from tests.fakes import FakeCaseRepository, FakeSender, NoLimit, make_case

PIETER = "79051708730"
PIETERS_EMAIL = "pieter.voorbeeld@example.be"
ISSUED = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
DOCUMENT_ID = "doc-3574ac4bbd065f42976b"
DIGEST = "ab" * 32
REASON = "Vergunning ingetrokken: de Kunstberg is tot 30 juni gesloten wegens werken."
MISSING_CASE = str(uuid.UUID(int=7))

PIETER_ON_THE_PORTAL = Principal(role=Role.CITIZEN, subject="pieter", channel=Channel.PORTAL, nrn=PIETER)
A_KIOSK = Principal(role=Role.KIOSK, subject="kiosk-grand-place-1", channel=Channel.KIOSK)


def agent_of(*departments: str, sub: str = "agent-7") -> Principal:
    return Principal(role=Role.AGENT, subject=sub, channel=Channel.COUNTER, departments=frozenset(departments))


EVENTS = agent_of("events")  # the department that handles a street artist permit


def request(reason: str = REASON) -> RevokeDocumentRequest:
    return RevokeDocumentRequest(reason=reason)


class Office:
    """Pieter's street artist permit, issued (in Dutch), and the platform's pieces around it."""

    def __init__(self, cases: FakeCaseRepository | None = None) -> None:
        self.cases = cases or FakeCaseRepository()
        self.sender = FakeSender()
        self.revocations = Revocations(self.cases, get_catalogue(), self.sender)
        self.reads = CaseReads(
            self.cases,
            get_catalogue(),
            None,  # type: ignore[arg-type]  # no download link is asked here
            Log(),
            NoLimit(),
            300,
            "https://my.brussels.example",
        )

    def permit(self, *, status: CaseStatus = CaseStatus.COMPLETED, email: str | None = PIETERS_EMAIL) -> Case:
        case = make_case(
            "street-artist-permit",
            status=status,
            nrn=PIETER,
            email=email,
            language=Language.NL,
            case_id=str(uuid.uuid4()),
        )
        document = CaseDocument(
            document_id=DOCUMENT_ID,
            kind="permit",
            language=Language.NL,
            key=f"cases/{case.case_id}/{DOCUMENT_ID}.pdf",
            sha256=DIGEST,
            created_at=ISSUED,
        )
        self.cases.register_document(DOCUMENT_ID, case.case_id)
        return self.cases.put(case.model_copy(update={"documents": [document]}))


class Log:
    def record_read(self, principal: Principal, case: Case, reason: str) -> None:
        return None


@pytest.fixture
def office() -> Office:
    return Office()


def body_without(error: OmnicityError, *ids: str) -> str:
    """The error's body as the API writes it, with the ids it names replaced by a placeholder."""
    text = json.dumps(error.to_body())
    for value in ids:
        text = text.replace(value, "<id>")
    return text


# ---------------------------------------------------------------------------------------------------- revoking
def test_an_agent_of_the_handling_department_revokes_a_permit_in_one_audited_write(office: Office) -> None:
    # Given Pieter's permit, issued, and an agent of the events department
    case = office.permit()
    before = datetime.now(UTC)
    # When the agent revokes it, with a reason
    revoked = office.revocations.revoke(EVENTS, case.case_id, DOCUMENT_ID, request())
    # Then the answer is the document as its case now holds it: revoked, since now, with the reason
    assert (revoked.case_id, revoked.reference) == (case.case_id, case.reference)
    assert revoked.document.document_id == DOCUMENT_ID
    assert revoked.document.revoked_at is not None
    assert before <= revoked.document.revoked_at <= datetime.now(UTC)
    assert revoked.document.revocation_reason == REASON
    # And the case holds it, in one write: the document's state is data on it, the case's status does not move
    stored = office.cases.get(case.case_id)
    [document] = stored.documents
    assert (document.revoked_at, document.revocation_reason) == (revoked.document.revoked_at, REASON)
    assert (document.sha256, document.created_at) == (DIGEST, ISSUED)
    assert (stored.version, stored.status, office.cases.saves) == (case.version + 1, CaseStatus.COMPLETED, 1)
    # ...its timeline says so, by the agent, with the reason (the citizen reads it there)
    last = stored.timeline[-1]
    assert (last.event, last.actor, last.status, last.at) == (
        DOCUMENT_REVOKED,
        "agent:agent-7",
        CaseStatus.COMPLETED,
        document.revoked_at,
    )
    assert last.note is not None
    assert last.note.in_language(Language.NL) == REASON
    # ...and the audit trail holds who, for which department, when, which document and why
    [entry] = office.cases.entries
    assert (entry.kind, entry.case_id, entry.actor, entry.department, entry.target, entry.reason, entry.event) == (
        AuditKind.REVOCATION,
        case.case_id,
        "agent:agent-7",
        "events",
        DOCUMENT_ID,
        REASON,
        DOCUMENT_REVOKED,
    )
    assert entry.at == document.revoked_at


def test_the_citizen_is_emailed_once_in_the_case_language_with_the_reason(office: Office) -> None:
    # Given Pieter's permit (a Dutch case)
    case = office.permit()
    # When it is revoked, then revoked again with the same reason (a double click)
    revoked = office.revocations.revoke(EVENTS, case.case_id, DOCUMENT_ID, request())
    office.revocations.revoke(EVENTS, case.case_id, DOCUMENT_ID, request())
    # Then Pieter got one email, in Dutch, naming the case, the document, the day and the reason
    [email] = office.sender.sent
    assert email.to == PIETERS_EMAIL
    assert case.reference in email.subject
    assert "ingetrokken" in email.subject
    assert "Vergunning voor straatartiesten" in email.body
    assert REASON in email.body
    assert revoked.document.revoked_at is not None
    assert f"{brussels_date(revoked.document.revoked_at):%d/%m/%Y}" in email.body  # the day in Brussels
    assert "{{" not in email.subject + email.body


def test_without_an_email_address_nobody_is_emailed_and_a_failed_email_leaves_the_revocation(office: Office) -> None:
    # Given a permit whose citizen gave no address, and one whose address SES refuses for good
    quiet = office.permit(email=None)
    refused = office.permit()

    class Refusing:
        def send(self, email: Email) -> str:
            raise DeliveryFailedError("SES refused the message (MessageRejected)")

    failing = Revocations(office.cases, get_catalogue(), Refusing())
    # When each is revoked
    office.revocations.revoke(EVENTS, quiet.case_id, DOCUMENT_ID, request())
    failing.revoke(EVENTS, refused.case_id, DOCUMENT_ID, request())
    # Then nobody was emailed, and both revocations stand
    assert office.sender.sent == []
    for case in (quiet, refused):
        [document] = office.cases.get(case.case_id).documents
        assert document.is_revoked


def test_the_same_revocation_again_writes_nothing_and_another_reason_is_a_409(office: Office) -> None:
    # Given a permit already revoked
    case = office.permit()
    first = office.revocations.revoke(EVENTS, case.case_id, DOCUMENT_ID, request())
    stored = office.cases.get(case.case_id)
    # When another agent of the department sends the same revocation
    again = office.revocations.revoke(agent_of("events", sub="agent-8"), case.case_id, DOCUMENT_ID, request())
    # Then the answer is the revocation as it stands, and nothing is written
    assert again == first
    assert office.cases.get(case.case_id) == stored
    assert len(office.cases.entries) == 1
    # When one revokes it for another reason
    with pytest.raises(AlreadyRevokedError) as refused:
        office.revocations.revoke(EVENTS, case.case_id, DOCUMENT_ID, request("Een andere reden."))
    # Then it is a 409 naming what happened; the first revocation stands, untouched
    assert (refused.value.http_status, refused.value.code) == (409, "already_revoked")
    assert first.document.revoked_at is not None
    assert f"revoked on {brussels_date(first.document.revoked_at)}" in refused.value.message
    assert office.cases.get(case.case_id) == stored
    assert len(office.cases.entries) == 1
    assert len(office.sender.sent) == 1


def test_a_revocation_that_meets_the_same_one_made_meanwhile_is_not_written_nor_emailed_twice() -> None:
    # Given a repository where another agent's identical revocation lands between the read and the write
    class Racing(FakeCaseRepository):
        def __init__(self) -> None:
            super().__init__()
            self.rival: Callable[[], object] | None = None

        def update(
            self,
            case_id: str,
            change: Callable[[Case], Case | None],
            attempts: int = 3,
            along: Callable[[Case, Case], Sequence[dict[str, Any]]] | None = None,
        ) -> Case:
            rival, self.rival = self.rival, None
            if rival is not None:
                rival()
            return super().update(case_id, change, attempts, along)

    cases = Racing()
    office = Office(cases)
    case = office.permit()
    colleague = agent_of("events", sub="agent-8")
    cases.rival = lambda: office.revocations.revoke(colleague, case.case_id, DOCUMENT_ID, request())
    # When the agent's revocation is written
    answer = office.revocations.revoke(EVENTS, case.case_id, DOCUMENT_ID, request())
    # Then the first one made stands, written and emailed once, and the answer is that one
    stored = office.cases.get(case.case_id)
    assert stored.timeline[-1].actor == "agent:agent-8"
    assert answer.document.revoked_at == stored.documents[0].revoked_at
    assert [entry.actor for entry in office.cases.entries] == ["agent:agent-8"]
    assert len(office.sender.sent) == 1


# ---------------------------------------------------------------------------------------------------- who may
def test_nobody_but_the_handling_departments_agents_revokes(office: Office) -> None:
    case = office.permit()
    # An agent of another department: word for word the answer for a case that does not exist
    green = agent_of("green_spaces")
    with pytest.raises(NotFoundError) as refused:
        office.revocations.revoke(green, case.case_id, DOCUMENT_ID, request())
    with pytest.raises(NotFoundError) as missing:
        office.revocations.revoke(green, MISSING_CASE, DOCUMENT_ID, request())
    assert refused.value.code == "not_found"
    assert body_without(refused.value, case.case_id) == body_without(missing.value, MISSING_CASE)
    # ...and a document id that is not the case's is no different for them
    with pytest.raises(NotFoundError) as unknown_document:
        office.revocations.revoke(green, case.case_id, "doc-00000000000000000000", request())
    assert body_without(unknown_document.value, case.case_id) == body_without(refused.value, case.case_id)
    # Its own citizen, and a kiosk: no back office
    for caller in (PIETER_ON_THE_PORTAL, A_KIOSK):
        with pytest.raises(ForbiddenError):
            office.revocations.revoke(caller, case.case_id, DOCUMENT_ID, request())
    # And nothing was written, nobody emailed
    assert office.cases.get(case.case_id) == case
    assert office.cases.entries == []
    assert office.sender.sent == []


def test_a_document_the_case_did_not_issue_is_a_404_for_the_handling_department(office: Office) -> None:
    case = office.permit()
    with pytest.raises(NotFoundError, match="no document 'doc-00000000000000000000' on this case"):
        office.revocations.revoke(EVENTS, case.case_id, "doc-00000000000000000000", request())
    assert office.cases.get(case.case_id) == case


@pytest.mark.parametrize(
    "reason",
    [
        "",
        "   ",
        "x" * 501,
        "Ingetrokken.\nZie bijlage.",  # a line feed
        "Ingetrokken.\u2028Zie bijlage.",  # a line separator
        "Ingetrokken \u202eegalijb eiZ",  # a right-to-left override
        "Ingetrokken\x00",
    ],
    ids=["empty", "blank", "too-long", "line-feed", "line-separator", "bidi-override", "null"],
)
def test_a_reason_that_is_empty_too_long_or_holds_a_control_character_is_refused(reason: str) -> None:
    with pytest.raises(ValidationError) as refused:
        RevokeDocumentRequest(reason=reason)
    assert [error["loc"] for error in refused.value.errors()] == [("reason",)]


def test_a_request_holds_the_reason_and_nothing_else() -> None:
    assert RevokeDocumentRequest(reason="  Ingetrokken.  ").reason == "Ingetrokken."  # what the citizen reads
    assert RevokeDocumentRequest(reason="x" * 500).reason == "x" * 500
    with pytest.raises(ValidationError):
        RevokeDocumentRequest.model_validate({"reason": "Ingetrokken.", "revoked_at": "2020-01-01T00:00:00Z"})


# ---------------------------------------------------------------------------------------------------- what is seen
def standing(verification: DocumentVerification) -> tuple[bool, DocumentStatus, datetime | None]:
    """What a verification says of whether the document holds: valid, its status, since when it does not."""
    return verification.valid, verification.status, verification.revoked_at


def test_verifying_a_revoked_document_says_so_and_since_when_but_never_why(office: Office) -> None:
    # Given Pieter's permit: verified by its code, it holds
    case = office.permit()
    valid = office.reads.verify_document(DOCUMENT_ID)
    assert standing(valid) == (True, DocumentStatus.VALID, None)
    # When an agent revokes it
    revoked = office.revocations.revoke(EVENTS, case.case_id, DOCUMENT_ID, request())
    # Then whoever verifies it is told it no longer holds, since the revocation; the rest is as it was
    verified = office.reads.verify_document(DOCUMENT_ID)
    assert standing(verified) == (False, DocumentStatus.REVOKED, revoked.document.revoked_at)
    assert verified.model_dump(exclude={"valid", "status", "revoked_at"}) == valid.model_dump(
        exclude={"valid", "status", "revoked_at"}
    )
    assert (verified.sha256, verified.issued_at, verified.reference) == (DIGEST, ISSUED, case.reference)
    # ...never why: the reason is the agent's words for Pieter, nor anything of his
    public = verified.model_dump_json()
    assert REASON not in public
    assert "reason" not in verified.model_dump()
    assert PIETER not in public
    assert PIETERS_EMAIL not in public


def test_a_document_of_a_cancelled_case_is_not_valid_since_the_cancellation_and_a_revocation_comes_first(
    office: Office,
) -> None:
    # Given a permit whose case was cancelled an hour after it was issued
    case = office.permit()
    cancelled_at = ISSUED + timedelta(hours=1)
    cancelled = case.model_copy(
        update={
            "status": CaseStatus.CANCELLED,
            "timeline": [
                *case.timeline,
                TimelineEntry(at=cancelled_at, status=CaseStatus.CANCELLED, event="cancelled", actor="citizen"),
            ],
        }
    )
    office.cases.put(cancelled)
    # Then it no longer holds, since the cancellation
    verified = office.reads.verify_document(DOCUMENT_ID)
    assert standing(verified) == (False, DocumentStatus.CANCELLED, cancelled_at)
    # When an agent also revokes it, Then the revocation is what is told: it says what the city did to the document
    revoked = office.revocations.revoke(EVENTS, case.case_id, DOCUMENT_ID, request())
    verified = office.reads.verify_document(DOCUMENT_ID)
    assert standing(verified) == (False, DocumentStatus.REVOKED, revoked.document.revoked_at)


def test_the_citizen_sees_the_document_revoked_on_the_case_and_in_the_list(office: Office) -> None:
    # Given Pieter's permit, revoked
    case = office.permit()
    revoked = office.revocations.revoke(EVENTS, case.case_id, DOCUMENT_ID, request())
    # When he reads his case, and his list of cases
    view = office.reads.get(PIETER_ON_THE_PORTAL, case.case_id)
    [listed] = office.reads.list_own(PIETER_ON_THE_PORTAL, 10, None).items
    # Then the document shows revoked, since when and why, and the timeline's last line says who and why
    for documents in (view.documents, listed.documents):
        [document] = documents
        assert (document.document_id, document.revoked_at, document.revocation_reason) == (
            DOCUMENT_ID,
            revoked.document.revoked_at,
            REASON,
        )
    assert (view.timeline[-1].event, view.timeline[-1].actor) == (DOCUMENT_REVOKED, "agent:agent-7")
    assert view.timeline[-1].note is not None
    assert view.timeline[-1].note.nl == REASON
    # And a document never revoked shows neither
    other = office.permit()
    [untouched] = office.reads.get(PIETER_ON_THE_PORTAL, other.case_id).documents
    assert (untouched.revoked_at, untouched.revocation_reason) == (None, None)
