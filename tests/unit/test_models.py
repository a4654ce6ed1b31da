"""The domain vocabulary: statuses, localized text, and how a case records what happens to it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from omnicity.domain.models import (
    Applicant,
    Case,
    CaseDocument,
    CaseStatus,
    Channel,
    Language,
    LocalizedText,
    TimelineEntry,
)

CREATED = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

# Which statuses end a case: nothing happens to a case in these any more.
TERMINAL = {
    CaseStatus.SUBMITTED: False,
    CaseStatus.IN_PROGRESS: False,
    CaseStatus.WAITING: False,
    CaseStatus.AWAITING_CITIZEN: False,
    CaseStatus.COMPLETED: True,
    CaseStatus.REJECTED: True,
    CaseStatus.FAILED: True,
    CaseStatus.CANCELLED: True,
}


def _case(**changes: object) -> Case:
    fields: dict[str, object] = {
        "case_id": "case-1",
        "reference": "BXL-2026-000001",
        "procedure_id": "residence-certificate",
        "applicant": Applicant(nrn="87031413235", email="elise.exemplaire@example.be"),
        "channel": Channel.PORTAL,
        "language": Language.FR,
        "form": {},
        "status": CaseStatus.SUBMITTED,
        "timeline": [
            TimelineEntry(at=CREATED, status=CaseStatus.SUBMITTED, event="submitted", actor="citizen"),
        ],
        "submitted_by": "citizen",
        "created_at": CREATED,
        "updated_at": CREATED,
    }
    return Case.model_validate(fields | changes)


def _document(document_id: str, language: Language = Language.FR) -> CaseDocument:
    return CaseDocument(
        document_id=document_id,
        kind="certificate",
        language=language,
        key=f"cases/case-1/{document_id}.pdf",
        created_at=CREATED,
    )


def test_the_terminal_table_covers_every_status() -> None:
    # Given the statuses the domain knows
    # Then each one has been decided terminal or not (a new status must be placed deliberately)
    assert set(TERMINAL) == set(CaseStatus)


@pytest.mark.parametrize(("status", "terminal"), TERMINAL.items())
def test_is_terminal(status: CaseStatus, terminal: bool) -> None:
    # Given a status / When asked whether it ends the case / Then only outcomes are terminal
    assert status.is_terminal is terminal


@pytest.mark.parametrize("language", list(Language))
def test_localized_text_in_language_returns_that_language(language: Language) -> None:
    # Given a text whose three translations differ
    text = LocalizedText(fr="Bonjour", nl="Goedendag", en="Hello")
    expected = {Language.FR: "Bonjour", Language.NL: "Goedendag", Language.EN: "Hello"}[language]

    # When it is read in one language
    # Then that translation comes back
    assert text.in_language(language) == expected


def test_with_entry_appends_an_entry_and_moves_the_status() -> None:
    # Given a submitted case with one timeline entry
    case = _case()
    later = CREATED + timedelta(minutes=5)

    # When the case is validated
    moved = case.with_entry("validated", actor="system", at=later, status=CaseStatus.IN_PROGRESS)

    # Then the new entry is appended with the new status, the earlier entry kept, updated_at moved
    assert moved.status is CaseStatus.IN_PROGRESS
    assert [entry.event for entry in moved.timeline] == ["submitted", "validated"]
    assert moved.timeline[0] == case.timeline[0]
    assert moved.timeline[-1] == TimelineEntry(
        at=later, status=CaseStatus.IN_PROGRESS, event="validated", actor="system"
    )
    assert moved.updated_at == later
    assert moved.created_at == CREATED
    # and the original case is untouched
    assert case.status is CaseStatus.SUBMITTED
    assert len(case.timeline) == 1
    assert case.updated_at == CREATED


def test_with_entry_without_status_keeps_the_status_and_records_it_on_the_entry() -> None:
    # Given a case in progress
    case = _case(status=CaseStatus.IN_PROGRESS)
    later = CREATED + timedelta(seconds=1)

    # When an event that changes no status is recorded
    moved = case.with_entry("eligibility_confirmed", actor="system", at=later)

    # Then the status is unchanged and the entry carries it
    assert moved.status is CaseStatus.IN_PROGRESS
    assert moved.timeline[-1].status is CaseStatus.IN_PROGRESS
    assert moved.timeline[-1].event == "eligibility_confirmed"


def test_with_entry_applies_other_changes_and_the_note() -> None:
    # Given a case in progress and a reason
    case = _case(status=CaseStatus.IN_PROGRESS)
    reason = LocalizedText(fr="Motif", nl="Reden", en="Reason")

    # When it is rejected with that reason as note and as the case's reason
    moved = case.with_entry(
        "rejected", actor="system", at=CREATED, status=CaseStatus.REJECTED, note=reason, reason=reason
    )

    # Then both are recorded
    assert moved.reason == reason
    assert moved.timeline[-1].note == reason
    assert moved.has_event("rejected")
    assert not case.has_event("rejected")


def test_document_finds_a_document_by_id() -> None:
    # Given a case with two documents
    first, second = _document("doc-a"), _document("doc-b", Language.NL)
    case = _case(documents=[first, second])

    # When documents are looked up by id
    # Then the matching one comes back, and None for an unknown id
    assert case.document("doc-b") == second
    assert case.document("doc-a") == first
    assert case.document("doc-c") is None
    assert _case().document("doc-a") is None
