"""The domain's vocabulary (pydantic v2): procedures, cases, statuses, channels, languages, documents."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field


class Language(StrEnum):
    FR = "fr"
    NL = "nl"
    EN = "en"


class Channel(StrEnum):
    PORTAL = "portal"
    KIOSK = "kiosk"
    COUNTER = "counter"


class Role(StrEnum):
    CITIZEN = "citizen"
    AGENT = "agent"
    KIOSK = "kiosk"


class CaseStatus(StrEnum):
    SUBMITTED = "submitted"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"
    COMPLETED = "completed"
    REJECTED = "rejected"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL


_TERMINAL = frozenset({CaseStatus.COMPLETED, CaseStatus.REJECTED, CaseStatus.FAILED, CaseStatus.CANCELLED})


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LocalizedText(Frozen):
    """The same text in the city's languages (Brussels is bilingual; English for convenience)."""

    fr: str
    nl: str
    en: str

    def in_language(self, language: Language) -> str:
        return str(getattr(self, language.value))


# ---------------------------------------------------------------------------------------------------- procedures
class FieldType(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    DATE = "date"
    CHOICE = "choice"
    EMAIL = "email"


class Choice(Frozen):
    value: str
    label: LocalizedText


class FormField(Frozen):
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
    type: FieldType
    required: bool = True
    label: LocalizedText
    help: LocalizedText | None = None
    choices: list[Choice] | None = None
    min_length: int | None = None
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    pattern: str | None = None


class DocumentSpec(Frozen):
    kind: str
    template: str
    title: LocalizedText


class Procedure(Frozen):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,62}$")]
    family: str
    title: LocalizedText
    summary: LocalizedText
    help: LocalizedText
    department: str
    fee_cents: Annotated[int, Field(ge=0)] = 0
    sla_business_days: Annotated[int, Field(ge=0)]
    channels: list[Channel]
    eligibility: list[str]
    document: DocumentSpec | None = None
    fields: list[FormField] = []


# ---------------------------------------------------------------------------------------------------- cases
class Applicant(Frozen):
    nrn: str
    email: str | None = None


class TimelineEntry(Frozen):
    at: datetime
    status: CaseStatus
    event: str
    actor: str
    note: LocalizedText | None = None


class CaseDocument(Frozen):
    document_id: str
    kind: str
    language: Language
    key: str
    content_type: str = "application/pdf"
    created_at: datetime


class Failure(Frozen):
    """Why a workflow stopped: for agents and ops; the citizen sees a localized reason instead."""

    error: str
    cause: str
    step: str | None = None


class Case(Frozen):
    case_id: str
    reference: str
    procedure_id: str
    applicant: Applicant
    channel: Channel
    language: Language
    form: dict[str, Any]
    status: CaseStatus
    reason: LocalizedText | None = None
    failure: Failure | None = None
    timeline: list[TimelineEntry]
    documents: list[CaseDocument] = []
    submitted_by: str
    created_at: datetime
    updated_at: datetime
    version: int = 0

    def document(self, document_id: str) -> CaseDocument | None:
        return next((doc for doc in self.documents if doc.document_id == document_id), None)

    def has_event(self, event: str) -> bool:
        return any(entry.event == event for entry in self.timeline)

    def with_entry(
        self,
        event: str,
        *,
        actor: str,
        at: datetime,
        status: CaseStatus | None = None,
        note: LocalizedText | None = None,
        **changes: Any,
    ) -> Case:
        """A copy of the case moved to ``status`` (default: unchanged) with ``event`` appended to its timeline."""
        new_status = status or self.status
        entry = TimelineEntry(at=at, status=new_status, event=event, actor=actor, note=note)
        return self.model_copy(
            update={"status": new_status, "timeline": [*self.timeline, entry], "updated_at": at, **changes}
        )


def today_in_brussels() -> date:
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("Europe/Brussels")).date()
