"""The case repository against a moto table built from template.yaml's own properties."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from infra.local.runtime import LocalRuntime
from omnicity.cases import CaseRepository
from omnicity.errors import CaseConflictError, ConflictError, MalformedRequestError, NotFoundError
from omnicity.models import Applicant, Case, CaseStatus, Channel, Language, TimelineEntry
from tests.conftest import ELISE, PIETER


@pytest.fixture(scope="module")
def repository(runtime: LocalRuntime) -> CaseRepository:
    table = next(iter(runtime.description.tables.values()))
    return CaseRepository(table.name)


def new_case(nrn: str = ELISE, created: datetime | None = None, **changes: Any) -> Case:
    at = created or datetime.now(UTC)
    case = Case(
        case_id=str(uuid.uuid4()),
        reference="BXL-2026-999999",
        procedure_id="residence-certificate",
        applicant=Applicant(nrn=nrn, email="someone@example.be"),
        channel=Channel.PORTAL,
        language=Language.FR,
        form={"purpose": "housing", "copies": 2, "ratio": 0.5},
        status=CaseStatus.SUBMITTED,
        timeline=[TimelineEntry(at=at, status=CaseStatus.SUBMITTED, event="submitted", actor="citizen")],
        submitted_by="citizen",
        created_at=at,
        updated_at=at,
    )
    return case.model_copy(update=changes)


def test_a_created_case_reads_back_equal_with_version_one(repository: CaseRepository) -> None:
    # Given a new case, with an integer and a fractional number in its form
    case = new_case()
    # When it is stored and read back
    stored = repository.create(case)
    # Then it is the same case, at version 1, numbers and dates intact
    assert stored.version == 1
    assert repository.get(case.case_id) == stored


def test_create_never_overwrites_an_existing_case(repository: CaseRepository) -> None:
    case = repository.create(new_case())
    with pytest.raises(ConflictError):
        repository.create(case.model_copy(update={"status": CaseStatus.COMPLETED}))
    assert repository.get(case.case_id).status is CaseStatus.SUBMITTED


def test_a_stale_write_is_refused_and_loses_nothing(repository: CaseRepository) -> None:
    # Given two writers who read the same version
    stored = repository.create(new_case())
    first = stored.model_copy(update={"status": CaseStatus.IN_PROGRESS})
    second = stored.model_copy(update={"status": CaseStatus.CANCELLED})
    # When both write
    repository.save(first)
    with pytest.raises(CaseConflictError):
        repository.save(second)
    # Then the first write stands, at version 2
    current = repository.get(stored.case_id)
    assert current.status is CaseStatus.IN_PROGRESS
    assert current.version == 2


def test_concurrent_updates_each_apply_once(repository: CaseRepository) -> None:
    # Given a case and eight writers each appending one timeline entry, at the same time
    stored = repository.create(new_case())
    errors: list[Exception] = []

    def append(index: int) -> None:
        def change(case: Case) -> Case:
            return case.with_entry(f"note-{index}", actor="system", at=datetime.now(UTC))

        try:
            repository.update(stored.case_id, change, attempts=20)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then no write was lost: all eight entries are there, each once
    assert errors == []
    events = [entry.event for entry in repository.get(stored.case_id).timeline]
    assert sorted(event for event in events if event.startswith("note-")) == [f"note-{i}" for i in range(8)]
    assert repository.get(stored.case_id).version == 9


def test_an_unknown_case_is_not_found(repository: CaseRepository) -> None:
    with pytest.raises(NotFoundError):
        repository.get(str(uuid.uuid4()))


def test_references_are_unique_under_concurrency(repository: CaseRepository) -> None:
    # Given twenty submissions at once in the same year
    references: list[str] = []
    lock = threading.Lock()

    def take() -> None:
        reference = repository.next_reference(2031)
        with lock:
            references.append(reference)

    threads = [threading.Thread(target=take) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then each got its own number, and they follow each other
    assert len(set(references)) == 20
    assert sorted(references) == [f"BXL-2031-{n:06d}" for n in range(1, 21)]


def test_a_citizens_cases_come_newest_first_and_only_theirs(repository: CaseRepository) -> None:
    # Given three cases of one citizen at different times and one of another citizen
    nrn = "12042312477"
    start = datetime(2026, 1, 1, tzinfo=UTC)
    ids = [repository.create(new_case(nrn, start + timedelta(days=day))).case_id for day in range(3)]
    repository.create(new_case(PIETER))
    # When the citizen's cases are listed two at a time
    page, cursor = repository.list_for_citizen(nrn, limit=2)
    rest, end = repository.list_for_citizen(nrn, limit=2, cursor=cursor)
    # Then they come newest first, across pages, and nothing else
    assert [case.case_id for case in page + rest] == list(reversed(ids))
    assert cursor is not None
    assert end is None


def test_a_cursor_cannot_open_another_citizens_listing(repository: CaseRepository) -> None:
    nrn = "16080905794"
    for _ in range(2):
        repository.create(new_case(nrn))
    _, cursor = repository.list_for_citizen(nrn, limit=1)
    assert cursor is not None
    with pytest.raises(MalformedRequestError):
        repository.list_for_citizen(PIETER, cursor=cursor)
    with pytest.raises(MalformedRequestError):
        repository.list_for_citizen(nrn, cursor="not-base64!")
