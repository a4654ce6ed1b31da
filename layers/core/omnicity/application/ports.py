"""What the API's use cases need of the outside world, as small protocols (fakes in unit tests, adapters in Lambda)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from omnicity.adapters.audit import AuditEntry
from omnicity.adapters.notifications import Email
from omnicity.domain.identity import Principal
from omnicity.domain.models import Case


class CallerLimit(Protocol):
    """How often one caller may do something (``omnicity.adapters.throttle.CallerLimit``): ``hit`` counts an attempt,
    ``check`` only looks; both raise TooManyRequestsError (429) once the caller's window is used up."""

    def hit(self, caller: str) -> None: ...

    def check(self, caller: str) -> None: ...


class ReadLog(Protocol):
    """Logs an agent's read of a case in its audit trail; nothing for anyone else (omnicity.application.back_office)."""

    def record_read(self, principal: Principal, case: Case, reason: str) -> None: ...


class NewCases(Protocol):
    """Where a submission stores its case (``omnicity.adapters.cases.CaseRepository``)."""

    def next_reference(self, year: int, prefix: str = "BXL") -> str: ...

    def create(self, case: Case) -> Case: ...

    def save(self, case: Case, along: Sequence[dict[str, Any]] = (), previous: Case | None = None) -> Case: ...


class CaseUpdates(Protocol):
    """Reading a case and changing it under optimistic locking (``omnicity.adapters.cases.CaseRepository``)."""

    def get(self, case_id: str) -> Case: ...

    def update(
        self,
        case_id: str,
        change: Callable[[Case], Case | None],
        attempts: int = 3,
        along: Callable[[Case, Case], Sequence[dict[str, Any]]] | None = None,
    ) -> Case: ...


class AuditedCases(CaseUpdates, Protocol):
    """Changing a case along with its audit entries, in one transaction (``omnicity.adapters.cases``)."""

    def audit_items(self, case: Case, entries: Iterable[AuditEntry]) -> list[dict[str, Any]]: ...


class Mailer(Protocol):
    """How citizens are emailed (``omnicity.adapters.notifications.EmailSender``)."""

    def send(self, email: Email) -> str: ...


class CaseLookups(CaseUpdates, Protocol):
    """The ways to a case the reads use: by id, reference, hand-off code, document, and a citizen's own list."""

    def get_by_reference(self, reference: str) -> Case: ...

    def get_by_handoff(self, code: str) -> Case: ...

    def get_by_document(self, document_id: str) -> Case: ...

    def list_for_citizen(
        self, nrn: str, limit: int = 50, cursor: str | None = None
    ) -> tuple[list[Case], str | None]: ...


class DocumentSealer(Protocol):
    """Puts the city's electronic seal on an issued PDF (``omnicity.adapters.sealing.PadesSealer``): returns the
    sealed document, ``pdf`` unchanged up to its last byte with the seal appended as an incremental update. Raises
    TransientError when a dependency (the key's service, the timestamp authority) may answer on a retry."""

    def seal(self, pdf: bytes) -> bytes: ...
