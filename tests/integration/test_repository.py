"""The case repository against a moto table built from template.yaml's own properties."""

from __future__ import annotations

import base64
import re
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from omnicity.adapters.cases import CaseRepository
from omnicity.domain.errors import CaseConflictError, ConflictError, MalformedRequestError, NotFoundError
from omnicity.domain.models import Applicant, Case, CaseStatus, Channel, Language, TimelineEntry
from omnicity.domain.nrn import format_nrn
from tests.conftest import ELISE, PIETER


def new_case(nrn: str = ELISE, created: datetime | None = None, **changes: Any) -> Case:
    at = created or datetime.now(UTC)
    case = Case(
        case_id=str(uuid.uuid4()),
        reference=f"BXL-2099-{uuid.uuid4().int % 10**6:06d}-{uuid.uuid4().hex[:4]}",
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
    # Given two cases of one citizen, and two of another: one older than the first citizen's newest, one newer
    nrn, other = "16080905794", "85071403323"
    start = datetime(2026, 3, 1, tzinfo=UTC)
    theirs = [repository.create(new_case(nrn, start + timedelta(days=day))).case_id for day in (2, 4)]
    mine = [repository.create(new_case(other, start + timedelta(days=day))).case_id for day in (1, 5)]
    _, cursor = repository.list_for_citizen(nrn, limit=1)
    assert cursor is not None
    # When the other citizen pages with the first citizen's cursor
    page, _ = repository.list_for_citizen(other, cursor=cursor)
    # Then it only continues their own listing, from the cursor's point in time: none of the first citizen's cases
    assert [case.case_id for case in page] == [mine[0]]
    assert not {case.case_id for case in page} & set(theirs)


def test_a_cursor_carries_no_national_register_number(repository: CaseRepository) -> None:
    # Given a citizen with more cases than fit in a page
    nrn = "92022905749"
    for _ in range(2):
        repository.create(new_case(nrn))
    # When a page ends with a cursor
    _, cursor = repository.list_for_citizen(nrn, limit=1)
    assert cursor is not None
    # Then the cursor is short URL-safe text, and the NRN is in it in no form: plain, or base64 of any kind
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,160}", cursor)
    decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    for text in (cursor, decoded):
        for form in nrn_encodings(nrn):
            assert form not in text


def nrn_encodings(nrn: str) -> set[str]:
    """An NRN as it could hide in a text: plain, formatted, as its key (``CITIZEN#<nrn>``), in hex, and in standard
    or URL-safe base64 wherever it starts in the encoded bytes (the part of its encoding that does not depend on
    the bytes around it)."""
    plain = {nrn, format_nrn(nrn), f"CITIZEN#{nrn}"}
    forms = plain | {text.encode().hex() for text in plain}
    for text in plain:
        for offset in range(3):
            encoded = base64.b64encode(b"\0" * offset + text.encode()).decode().rstrip("=")
            stable = encoded[4 if offset else 0 : -2]
            forms |= {stable, stable.replace("+", "-").replace("/", "_")}
    return forms


@pytest.mark.parametrize(
    ("cursor", "reason"),
    [
        ("not-base64!", "not a cursor"),
        ("a" * 161, "too long"),
        ("a", "not a cursor"),  # not a base64 length
        (base64.urlsafe_b64encode(b"[" * 1500).decode().rstrip("="), "too long"),
        (base64.urlsafe_b64encode(b'{"gsi1pk": {"S": "CITIZEN#12042312477"}}').decode().rstrip("="), "not a cursor"),
        (base64.urlsafe_b64encode(b"2026-01-01T00:00:00+00:00#a#b").decode().rstrip("="), "not a cursor"),
        (base64.urlsafe_b64encode(b"2026-13-01T00:00:00+00:00#abc").decode().rstrip("="), "not a cursor"),
        (base64.urlsafe_b64encode(b"2026-01-01T00:00:00+00:00#\xff").decode().rstrip("="), "not a cursor"),
        (base64.urlsafe_b64encode(b"2026-01-01T00:00:00+00:00#abc").decode(), "not a cursor"),  # padded: not ours
    ],
)
def test_a_bad_cursor_is_a_malformed_request_naming_the_cursor(
    repository: CaseRepository, cursor: str, reason: str
) -> None:
    with pytest.raises(MalformedRequestError) as raised:
        repository.list_for_citizen(ELISE, cursor=cursor)
    [detail] = raised.value.details
    assert detail["field"] == "cursor"
    assert reason in detail["reason"]


def test_a_case_is_found_by_its_reference(repository: CaseRepository) -> None:
    # Given a stored case
    case = repository.create(new_case())
    # When it is looked up by its human-readable reference / Then it is that case
    assert repository.get_by_reference(case.reference) == case
    with pytest.raises(NotFoundError):
        repository.get_by_reference("BXL-1999-000000")


def test_two_cases_cannot_share_a_reference(repository: CaseRepository) -> None:
    # Given a stored case
    first = repository.create(new_case())
    # When another case comes with the same reference
    with pytest.raises(ConflictError):
        repository.create(new_case(reference=first.reference))
    # Then the reference still names the first case, and the second was not stored half-way
    assert repository.get_by_reference(first.reference).case_id == first.case_id


def test_an_anonymous_case_is_in_no_citizens_list(repository: CaseRepository) -> None:
    # Given an anonymous report
    anonymous = repository.create(new_case(applicant=Applicant(nrn=None, email=None)))
    # Then it reads back by id and reference, and it is not in anybody's list
    assert repository.get(anonymous.case_id).applicant.nrn is None
    assert repository.get_by_reference(anonymous.reference).case_id == anonymous.case_id
