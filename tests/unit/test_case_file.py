"""The agents' back office (omnicity.application.back_office.CaseFile) with in-memory fakes: who reads a case's file,
for which department the read is logged, and publishing a photo of an alert."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from omnicity.adapters.audit import PHOTO_PUBLISHED, AuditEntry, AuditKind
from omnicity.application.back_office import CaseFile
from omnicity.catalogue import get_catalogue
from omnicity.domain.errors import ConflictError, ForbiddenError, NotFoundError
from omnicity.domain.identity import Principal
from omnicity.domain.models import Case, CaseStatus, Channel, Language, Role
from tests.fakes import FakeCaseRepository, FakeTaskRepository, make_case

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
PIETER = "79051708730"
PHOTOS = ["uploads/owner/face.jpg", "uploads/owner/lamp.jpg"]


class FakeTrail:
    """The audit trail's reads in memory."""

    def __init__(self) -> None:
        self.read_entries: list[AuditEntry] = []

    def record_read(self, case: Case, *, actor: str, department: str | None, reason: str) -> AuditEntry:
        entry = AuditEntry(
            audit_id=uuid.uuid4().hex,
            case_id=case.case_id,
            at=datetime.now(UTC),
            kind=AuditKind.READ,
            actor=actor,
            department=department,
            reason=reason,
        )
        self.read_entries.append(entry)
        return entry

    def reads(self, case_id: str) -> list[AuditEntry]:
        return [entry for entry in reversed(self.read_entries) if entry.case_id == case_id]


def agent_of(*departments: str, sub: str = "field-7") -> Principal:
    return Principal(role=Role.AGENT, subject=sub, channel=Channel.COUNTER, departments=frozenset(departments))


PIETER_ON_THE_PORTAL = Principal(role=Role.CITIZEN, subject="pieter", channel=Channel.PORTAL, nrn=PIETER)


class Office:
    def __init__(self) -> None:
        self.cases, self.trail = FakeCaseRepository(), FakeTrail()
        self.file = CaseFile(self.cases, FakeTaskRepository(), self.trail, get_catalogue())

    def alert(self, category: str = "street_lighting", *, procedure_id: str = "public-space-alert") -> Case:
        """Pieter's alert with two photos, waiting for its field agent (public: every alert is)."""
        form = {"category": category, "description": "Lampadaire éteint.", "photos": PHOTOS}
        alert = make_case(
            procedure_id,
            form=form,
            status=CaseStatus.WAITING,
            nrn=PIETER,
            language=Language.NL,
            case_id=str(uuid.uuid4()),
            at=NOW,
        )
        return self.cases.put(alert.model_copy(update={"public": procedure_id == "public-space-alert"}))


@pytest.fixture
def office() -> Office:
    return Office()


MISSING = str(uuid.UUID(int=7))


def body_without(error: NotFoundError, case_id: str) -> str:
    """The error's body as the API writes it, the case id replaced by its kind."""
    return json.dumps(error.to_body()).replace(case_id, "<case_id>")


# ---------------------------------------------------------------------------------------------------- reads
def test_the_routed_department_reads_the_file_and_the_read_is_logged_for_it(office: Office) -> None:
    # Given an alert about a street light (cleanliness's procedure, routed to the lighting department)
    case = office.alert()
    # When an agent of lighting and of cleanliness opens its file
    file = office.file.for_agent(agent_of("cleanliness", "public_lighting"), case.case_id, "on site")
    # Then it is the lighting department's file, and the read is logged for lighting
    assert file.department == "public_lighting"
    assert [(e.agent, e.department, e.reason) for e in office.trail.read_entries] == [
        ("field-7", "public_lighting", "on site")
    ]


def test_an_agent_of_another_department_gets_what_a_missing_case_gives(office: Office) -> None:
    # Given the same alert, and an agent of the procedure's own department only
    case = office.alert()
    cleanliness = agent_of("cleanliness")
    # When they open its file
    with pytest.raises(NotFoundError) as refused:
        office.file.for_agent(cleanliness, case.case_id)
    # Then the answer is the one for a case that does not exist, and nothing was logged
    with pytest.raises(NotFoundError) as missing:
        office.file.for_agent(cleanliness, MISSING)
    assert body_without(refused.value, case.case_id) == body_without(missing.value, MISSING)
    assert refused.value.code == "not_found"
    assert office.trail.read_entries == []


# ---------------------------------------------------------------------------------------------------- publishing
def test_the_handling_department_publishes_a_photo_once_with_its_audit_entry(office: Office) -> None:
    # Given the alert, and a lighting agent
    case = office.alert()
    lighting = agent_of("public_lighting")
    # When they publish its second photo
    published = office.file.publish_photo(lighting, case.case_id, 1)
    # Then that photo, and only it, is public
    assert published.published_photos == [PHOTOS[1]]
    stored = office.cases.get(case.case_id)
    assert stored.published_photos == [PHOTOS[1]]
    assert (stored.version, stored.status) == (case.version + 1, CaseStatus.WAITING)
    # ...the case's timeline says so (its citizen sees it), and the audit trail holds who, for whom, which photo
    last = stored.timeline[-1]
    assert (last.event, last.actor, last.status) == (PHOTO_PUBLISHED, "agent:field-7", CaseStatus.WAITING)
    [entry] = office.cases.entries
    assert (entry.kind, entry.actor, entry.department, entry.target) == (
        AuditKind.PUBLICATION,
        "agent:field-7",
        "public_lighting",
        PHOTOS[1],
    )
    assert entry.at == last.at
    # When it is published again
    again = office.file.publish_photo(agent_of("public_lighting", sub="field-8"), case.case_id, 1)
    # Then nothing more is written
    assert again.published_photos == [PHOTOS[1]]
    assert office.cases.get(case.case_id).version == stored.version
    assert len(office.cases.entries) == 1


def test_nobody_else_publishes_a_photo(office: Office) -> None:
    case = office.alert()
    # An agent of the procedure's department (not the one handling the case): the answer for a missing case
    with pytest.raises(NotFoundError) as refused:
        office.file.publish_photo(agent_of("cleanliness"), case.case_id, 0)
    assert refused.value.message == f"no case {case.case_id!r}"
    with pytest.raises(NotFoundError, match="no case"):
        office.file.publish_photo(agent_of("public_lighting"), MISSING, 0)
    # Its own citizen (and any citizen): no back office
    with pytest.raises(ForbiddenError):
        office.file.publish_photo(PIETER_ON_THE_PORTAL, case.case_id, 0)
    # And nothing was published or logged
    assert office.cases.get(case.case_id).published_photos == []
    assert office.cases.entries == []


def test_only_a_photo_the_case_has_and_only_of_a_public_case(office: Office) -> None:
    # A photo number the form does not have
    case = office.alert()
    with pytest.raises(NotFoundError, match="no photo 2 on this case"):
        office.file.publish_photo(agent_of("public_lighting"), case.case_id, 2)
    # A case that is not published (a greening request's photos are the city's business only)
    greening = office.alert(procedure_id="greening-request")
    with pytest.raises(ConflictError, match="not published"):
        office.file.publish_photo(agent_of("green_spaces"), greening.case_id, 0)
    assert office.cases.entries == []
