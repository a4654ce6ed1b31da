"""Citizen emails: composed in the case's language, sent through an SES-shaped client."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from omnicity.adapters.notifications import Email, EmailSender, compose
from omnicity.catalogue import get_catalogue
from omnicity.domain.city import get_messages
from omnicity.domain.errors import DeliveryFailedError, TransientError
from omnicity.domain.models import Applicant, Case, CaseStatus, Channel, Language, Procedure

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
REFERENCE = "BXL-2026-004217"
TO = "elise.exemplaire@example.be"


@pytest.fixture
def procedure() -> Procedure:
    return get_catalogue().get("residence-certificate")


def _case(language: Language, status: CaseStatus = CaseStatus.COMPLETED, reason_code: str | None = None) -> Case:
    return Case(
        case_id="case-1",
        reference=REFERENCE,
        procedure_id="residence-certificate",
        applicant=Applicant(nrn="87031413235", email=TO),
        channel=Channel.PORTAL,
        language=language,
        form={},
        status=status,
        reason=get_messages().reason(reason_code) if reason_code else None,
        timeline=[],
        submitted_by="citizen",
        created_at=NOW,
        updated_at=NOW,
    )


def _others(language: Language) -> list[Language]:
    return [other for other in Language if other is not language]


# ---------------------------------------------------------------------------------------------------- compose
@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("message", ["document_ready", "rejected"])
def test_the_subject_holds_the_reference_and_the_title_in_the_case_language(
    procedure: Procedure, message: str, language: Language
) -> None:
    # Given a case in one language
    case = _case(language, CaseStatus.REJECTED, "not_resident")

    # When an email about it is composed
    email = compose(message, case, procedure, TO)

    # Then it goes to the given address; its subject names the case and the procedure in that language only
    assert email.to == TO
    assert REFERENCE in email.subject
    assert procedure.title.in_language(language) in email.subject
    for other in _others(language):
        assert procedure.title.in_language(other) not in email.subject
    assert REFERENCE in email.body
    assert "{{" not in email.subject + email.body


@pytest.mark.parametrize("language", list(Language))
def test_the_subjects_of_different_messages_differ(procedure: Procedure, language: Language) -> None:
    # Given a case / When the two messages are composed / Then a citizen can tell them apart
    case = _case(language, CaseStatus.REJECTED, "deceased")
    assert compose("document_ready", case, procedure, TO).subject != compose("rejected", case, procedure, TO).subject


@pytest.mark.parametrize("language", list(Language))
def test_the_rejection_body_holds_the_reason_in_the_case_language(procedure: Procedure, language: Language) -> None:
    # Given a case rejected because the applicant does not live in the city
    case = _case(language, CaseStatus.REJECTED, "not_resident")
    reason = get_messages().reason("not_resident")

    # When the rejection email is composed
    email = compose("rejected", case, procedure, TO)

    # Then the body gives the reason in the case's language, and not in the others
    assert reason.in_language(language) in email.body
    for other in _others(language):
        assert reason.in_language(other) not in email.body


def test_the_same_case_in_different_languages_gives_different_emails(procedure: Procedure) -> None:
    # Given the same case in each language / When composed / Then three distinct emails
    emails = {compose("document_ready", _case(language), procedure, TO) for language in Language}
    assert len({email.subject for email in emails}) == 3
    assert len({email.body for email in emails}) == 3


# ---------------------------------------------------------------------------------------------------- sender
class FakeSes:
    """Captures what would reach SES; optionally fails with an AWS error code."""

    def __init__(self, error_code: str | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self._error_code = error_code

    def send_email(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        if self._error_code is not None:
            raise ClientError({"Error": {"Code": self._error_code, "Message": "nope"}}, "SendEmail")
        return {"MessageId": f"message-{len(self.calls)}"}


EMAIL = Email(to=TO, subject="Certificat de résidence : prêt", body="Bonjour,\nÀ bientôt")


def test_the_sender_sends_from_the_configured_address_to_the_email_address() -> None:
    # Given a sender configured with the city's address
    ses = FakeSes()
    sender = EmailSender("no-reply@brussels.example", client=ses)

    # When an email is sent
    message_id = sender.send(EMAIL)

    # Then SES is asked once, from the city to the citizen, with the subject and body intact
    assert message_id == "message-1"
    [call] = ses.calls
    assert call["Source"] == "no-reply@brussels.example"
    assert call["Destination"]["ToAddresses"] == [TO]
    assert call["Message"]["Subject"]["Data"] == EMAIL.subject
    assert call["Message"]["Body"]["Text"]["Data"] == EMAIL.body


def test_throttling_becomes_a_transient_error() -> None:
    # Given SES throttling
    sender = EmailSender("no-reply@brussels.example", client=FakeSes("Throttling"))

    # When an email is sent / Then a TransientError, which the workflow retries
    with pytest.raises(TransientError) as raised:
        sender.send(EMAIL)
    assert isinstance(raised.value.__cause__, ClientError)


def test_a_permanent_ses_error_is_not_disguised_as_transient() -> None:
    # Given SES refusing the message for good
    sender = EmailSender("no-reply@brussels.example", client=FakeSes("MessageRejected"))

    # When an email is sent / Then it is a delivery failure, not a transient one (retrying would not help)
    with pytest.raises(DeliveryFailedError) as raised:
        sender.send(EMAIL)
    assert not isinstance(raised.value, TransientError)
    assert isinstance(raised.value.__cause__, ClientError)
    assert "MessageRejected" in raised.value.message
