"""In-memory fakes of the repositories and adapters the workflow steps use (fakes over mocks).

A transaction's extra writes (``along``) are :class:`FakeWrite` items here: each checks its condition first, and
only when every condition holds (the case's version included) are they all applied, as DynamoDB's TransactWriteItems
does, all or nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from omnicity.adapters.audit import AuditEntry
from omnicity.adapters.notifications import Email
from omnicity.adapters.registries.national import Address, Person
from omnicity.adapters.slots import SlotFullError
from omnicity.domain.errors import CaseConflictError, ConflictError, NotFoundError
from omnicity.domain.models import AgentTask, Applicant, Case, CaseStatus, Channel, Language, TimelineEntry
from omnicity.domain.nrn import birth_date


@dataclass(frozen=True)
class FakeWrite:
    """One write of a fake transaction: ``holds`` says whether its condition holds, ``apply`` makes it."""

    holds: Callable[[], bool]
    apply: Callable[[], None]


def fake_write(item: dict[str, Any]) -> FakeWrite:
    """The write a transaction item holds: ``{"Fake": write}``, or ``{"Put": {"Fake": write}}`` as callers wrap the
    body a fake's ``conditional_put`` returns."""
    write = item.get("Fake", item.get("Put", {}).get("Fake"))
    assert isinstance(write, FakeWrite), f"not a write of a fake repository: {item}"
    return write


def transact(writes: Iterable[dict[str, Any]]) -> None:
    """All the writes or none: ConflictError when a condition fails (nothing applied then)."""
    pending = [fake_write(item) for item in writes]
    if not all(write.holds() for write in pending):
        raise ConflictError("a condition of the transaction failed")
    for write in pending:
        write.apply()


class FakeCaseRepository:
    """The CaseRepository's read-modify-write semantics in memory: versioned saves, conflicts, retried updates, the
    writes of the same transaction (``along``), and the audit entries written with them (``entries``)."""

    def __init__(self) -> None:
        self.cases: dict[str, Case] = {}
        self.documents: dict[str, str] = {}
        self.entries: list[AuditEntry] = []
        self.saves = 0

    def register_document(self, document_id: str, case_id: str) -> None:
        self.documents[document_id] = case_id

    def put(self, case: Case) -> Case:
        stored = case.model_copy(update={"version": 1})
        self.cases[case.case_id] = stored
        return stored

    def _only(self, what: str, matches: Callable[[Case], bool]) -> Case:
        found = [case for case in self.cases.values() if matches(case)]
        if len(found) != 1:
            raise NotFoundError(f"no case for {what}")
        return found[0]

    def get_by_reference(self, reference: str) -> Case:
        return self._only(reference, lambda case: case.reference == reference)

    def get_by_handoff(self, code: str) -> Case:
        return self._only(code, lambda case: case.handoff_code == code)

    def get_by_document(self, document_id: str) -> Case:
        if document_id not in self.documents:
            raise NotFoundError(f"no document {document_id}")
        return self.get(self.documents[document_id])

    def list_for_citizen(self, nrn: str, limit: int = 50, cursor: str | None = None) -> tuple[list[Case], str | None]:
        mine = sorted((c for c in self.cases.values() if c.applicant.nrn == nrn), key=lambda c: c.created_at)
        return list(reversed(mine))[:limit], None

    def next_reference(self, year: int, prefix: str = "BXL") -> str:
        return f"{prefix}-{year}-{len(self.cases) + 1:06d}"

    def create(self, case: Case) -> Case:
        if case.case_id in self.cases:
            raise ConflictError(f"case {case.case_id} already exists")
        return self.put(case)

    def get(self, case_id: str) -> Case:
        try:
            return self.cases[case_id]
        except KeyError:
            raise NotFoundError(f"no case {case_id!r}") from None

    def save(self, case: Case, along: Sequence[dict[str, Any]] = (), previous: Case | None = None) -> Case:
        stored = case.model_copy(update={"version": case.version + 1})

        def store() -> None:
            self.cases[case.case_id] = stored
            self.saves += 1

        own = FakeWrite(holds=lambda: self.get(case.case_id).version == case.version, apply=store)
        try:
            transact([{"Fake": own}, *along])
        except ConflictError:
            raise CaseConflictError(f"case {case.case_id} changed since version {case.version}") from None
        return stored

    def audit_items(self, case: Case, entries: Iterable[AuditEntry]) -> list[dict[str, Any]]:
        def appending(entry: AuditEntry) -> FakeWrite:
            return FakeWrite(holds=lambda: True, apply=lambda: self.entries.append(entry))

        return [{"Fake": appending(entry)} for entry in entries]

    def in_flight_before(self, moment: datetime, limit: int = 100) -> list[Case]:
        stalled = [c for c in self.cases.values() if c.status.is_in_flight and c.updated_at < moment]
        return sorted(stalled, key=lambda case: (case.updated_at, case.case_id))[:limit]

    def update(
        self,
        case_id: str,
        change: Callable[[Case], Case | None],
        attempts: int = 3,
        along: Callable[[Case, Case], Sequence[dict[str, Any]]] | None = None,
    ) -> Case:
        for attempt in range(attempts):
            current = self.get(case_id)
            changed = change(current)
            if changed is None:
                return current
            try:
                return self.save(changed, along=along(current, changed) if along else ())
            except CaseConflictError:
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")


class FakeStore:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.puts: list[tuple[str, str]] = []

    def put_pdf(self, key: str, content: bytes, *, reference: str, retention_days: int | None = None) -> str:
        """The first write of a key wins, as S3's conditional write; the digest of what the key holds."""
        self.objects.setdefault(key, content)
        self.puts.append((key, reference))
        return hashlib.sha256(self.objects[key]).hexdigest()


class FakeSender:
    def __init__(self) -> None:
        self.sent: list[Email] = []

    def send(self, email: Email) -> str:
        self.sent.append(email)
        return f"message-{len(self.sent)}"


@dataclass
class FakeRenderer:
    calls: list[tuple[str, str, dict[str, object]]] = field(default_factory=list)

    def __call__(self, template_id: str, language: str, context: dict[str, object]) -> bytes:
        self.calls.append((template_id, language, context))
        return b"%PDF-fake"


@dataclass
class FakeSealer:
    """Seals by appending a numbered marker: as a real seal, an incremental update (the rendered bytes first,
    unchanged) that differs at each sealing (a signing time, a timestamp). Records what it was given and gave."""

    calls: list[bytes] = field(default_factory=list)
    sealed: list[bytes] = field(default_factory=list)

    def seal(self, pdf: bytes) -> bytes:
        self.calls.append(pdf)
        self.sealed.append(pdf + f"\n%fake-seal {len(self.calls)}\n".encode())
        return self.sealed[-1]


class FakeTaskRepository:
    """The TaskRepository in memory: open() is idempotent per task id, save() is versioned."""

    def __init__(self) -> None:
        self.tasks: dict[str, AgentTask] = {}

    def open(self, task: AgentTask) -> AgentTask:
        if task.task_id not in self.tasks:
            self.tasks[task.task_id] = task.model_copy(update={"version": 1})
        return self.tasks[task.task_id]

    def get(self, task_id: str) -> AgentTask:
        try:
            return self.tasks[task_id]
        except KeyError:
            raise NotFoundError(f"no task {task_id!r}") from None

    def save(self, task: AgentTask, along: Sequence[dict[str, Any]] = ()) -> AgentTask:
        put, stored = self.conditional_put(task)
        try:
            transact([{"Put": put}, *along])
        except ConflictError:
            raise ConflictError(f"task {task.task_id} was changed by someone else") from None
        return stored

    def conditional_put(self, task: AgentTask) -> tuple[dict[str, Any], AgentTask]:
        stored = task.model_copy(update={"version": task.version + 1})

        def holds() -> bool:
            return task.task_id in self.tasks and self.tasks[task.task_id].version == task.version

        return {"Fake": FakeWrite(holds=holds, apply=lambda: self.tasks.__setitem__(task.task_id, stored))}, stored


def _born(nrn: str) -> date:
    born = birth_date(nrn)
    assert born is not None
    return born


def make_person(nrn: str, first_name: str, last_name: str) -> Person:
    """A resident of 1000 Bruxelles since 2015, born on the date their NRN says."""
    return Person(
        nrn=nrn,
        first_name=first_name,
        last_name=last_name,
        birth_date=_born(nrn),
        gender="F",
        nationality="BE",
        preferred_language="fr",
        email="register.contact@example.org",
        address=Address(
            street="Rue du Marché aux Herbes",
            number="47",
            postal_code="1000",
            municipality_fr="Bruxelles",
            municipality_nl="Brussel",
            settled_on=date(2015, 9, 1),
        ),
        previous_addresses=[],
        household_id="HH-0001",
    )


class CountingClient:
    """A real boto3 client (moto's, in the tests) that records the operations called through it, in order."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: list[str] = []

    def __getattr__(self, operation: str) -> Any:
        call = getattr(self._client, operation)

        def counted(**request: Any) -> Any:
            self.calls.append(operation)
            return call(**request)

        return counted


def make_case(
    procedure_id: str,
    *,
    form: dict[str, Any] | None = None,
    status: CaseStatus = CaseStatus.SUBMITTED,
    nrn: str | None = "87031413235",
    email: str | None = None,
    language: Language = Language.FR,
    case_id: str = "case-1",
    reference: str = "BXL-2026-000001",
    at: datetime = datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
) -> Case:
    """A case of ``procedure_id`` as a portal submission leaves it (``status`` aside): for the tests that need a case
    and not its history."""
    return Case(
        case_id=case_id,
        reference=reference,
        procedure_id=procedure_id,
        applicant=Applicant(nrn=nrn, email=email),
        channel=Channel.PORTAL,
        language=language,
        form=form or {},
        status=status,
        timeline=[TimelineEntry(at=at, status=CaseStatus.SUBMITTED, event="submitted", actor="citizen")],
        submitted_by="citizen",
        created_at=at,
        updated_at=at,
    )


class NoLimit:
    """A caller limit that never refuses (``omnicity.application.ports.CallerLimit``)."""

    def hit(self, caller: str) -> None:
        return None

    def check(self, caller: str) -> None:
        return None


class FakePlaces:
    """A day's places in memory (``omnicity.capabilities.base.Places``): ``booked[procedure_id, day]``."""

    def __init__(self, today: date) -> None:
        self.booked: dict[tuple[str, date], int] = {}
        self._today = today

    def today(self) -> date:
        return self._today

    def book(self, procedure_id: str, day: date, capacity: int) -> None:
        if self.booked.get((procedure_id, day), 0) >= capacity:
            raise SlotFullError(f"{day} is full")
        self.booked[procedure_id, day] = self.booked.get((procedure_id, day), 0) + 1

    def free(self, procedure_id: str, day: date) -> None:
        self.booked[procedure_id, day] = max(0, self.booked.get((procedure_id, day), 0) - 1)

    def booked_between(self, procedure_id: str, first: date, last: date) -> dict[str, int]:
        booked = self.booked.items()
        return {day.isoformat(): n for (pid, day), n in booked if pid == procedure_id and first <= day <= last}
