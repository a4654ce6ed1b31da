"""The domain's vocabulary (pydantic v2): procedures, cases, statuses, channels, languages, documents."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


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
    WAITING = "waiting"  # for the city's side: an agent's decision, the card producer
    AWAITING_CITIZEN = "awaiting_citizen"  # an agent asked the citizen for information: the SLA clock is stopped
    COMPLETED = "completed"
    REJECTED = "rejected"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL

    @property
    def is_in_flight(self) -> bool:
        """A workflow step is about to move the case (nobody else: not an agent, the producer or the citizen)."""
        return self in _IN_FLIGHT


SYSTEM_ACTOR = "system"  # the actor of what the platform does by itself, in timelines, audit entries and tasks
_TERMINAL = frozenset({CaseStatus.COMPLETED, CaseStatus.REJECTED, CaseStatus.FAILED, CaseStatus.CANCELLED})
_IN_FLIGHT = frozenset({CaseStatus.SUBMITTED, CaseStatus.IN_PROGRESS})


class Frozen(BaseModel):
    """Immutable, and no key it does not know. Its validator is built when first used (``defer_build``): a function
    pays at its cold start for none of the models, and then only for those it uses."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class LocalizedText(Frozen):
    """The same text in the city's languages (Brussels is bilingual; English for convenience)."""

    fr: str
    nl: str
    en: str

    def in_language(self, language: Language) -> str:
        return str(getattr(self, language.value))


# ---------------------------------------------------------------------------------------------------- procedures
class FieldType(StrEnum):
    """What a form field holds. The JSON shapes are documented in ``omnicity.forms``."""

    TEXT = "text"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    DATE = "date"
    CHOICE = "choice"
    EMAIL = "email"
    MULTI_CHOICE = "multi_choice"  # a list of values from ``choices``
    LOCATION = "location"  # {"lat", "lon"} in WGS84, inside the city's bounds
    ADDRESS = "address"  # {"street", "number", "box"?, "postal_code"}, a postal code of the city
    PHOTOS = "photos"  # a list of the S3 keys of the signed-in person's own uploads
    ITEMS = "items"  # a list of {"item": a value from ``choices``, "quantity"}
    NRN = "nrn"  # a Belgian national register number


class Choice(Frozen):
    value: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^\S(?:.*\S)?$")]
    label: LocalizedText
    volume_m3: Annotated[float, Field(gt=0)] | None = None  # what one unit takes (``items`` with ``max_total``)


class FormField(Frozen):
    """One field of a procedure's form, as data: ``omnicity.forms`` validates it and publishes it as JSON Schema.

    Options and the types they apply to (any other combination is refused when the catalogue loads):
    ``choices`` (choice, multi_choice, items); ``min_length``/``max_length``/``pattern`` (text, email);
    ``minimum`` (integer); ``maximum`` (integer; items: the largest quantity of one item, required there);
    ``min_items``/``max_items`` (multi_choice, photos: ``max_items`` defaults to 3, items); ``max_total`` (items: the
    cap on the sum of ``volume_m3`` x quantity, every choice then carries ``volume_m3``); ``min_days_ahead``/
    ``max_days_ahead`` (date: relative to today in Brussels, 0 = today, negative = in the past).
    """

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
    type: FieldType
    required: bool = True
    label: LocalizedText
    help: LocalizedText | None = None
    choices: list[Choice] | None = None
    min_length: Annotated[int, Field(ge=0)] | None = None
    max_length: Annotated[int, Field(ge=1)] | None = None
    minimum: int | None = None
    maximum: int | None = None
    pattern: str | None = None
    min_items: Annotated[int, Field(ge=0)] | None = None
    max_items: Annotated[int, Field(ge=1)] | None = None
    max_total: Annotated[float, Field(gt=0)] | None = None
    min_days_ahead: int | None = None
    max_days_ahead: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("type") == FieldType.PHOTOS.value and data.get("max_items") is None:
            return {**data, "max_items": 3}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> FormField:
        import re

        applies = {
            "choices": {FieldType.CHOICE, FieldType.MULTI_CHOICE, FieldType.ITEMS},
            "min_length": {FieldType.TEXT, FieldType.EMAIL},
            "max_length": {FieldType.TEXT, FieldType.EMAIL},
            "pattern": {FieldType.TEXT, FieldType.EMAIL},
            "minimum": {FieldType.INTEGER},
            "maximum": {FieldType.INTEGER, FieldType.ITEMS},
            "min_items": {FieldType.MULTI_CHOICE, FieldType.PHOTOS, FieldType.ITEMS},
            "max_items": {FieldType.MULTI_CHOICE, FieldType.PHOTOS, FieldType.ITEMS},
            "max_total": {FieldType.ITEMS},
            "min_days_ahead": {FieldType.DATE},
            "max_days_ahead": {FieldType.DATE},
        }
        for option, types in applies.items():
            if getattr(self, option) is not None and self.type not in types:
                raise ValueError(f"{self.name}: {option} does not apply to a {self.type.value} field")
        if self.type in applies["choices"]:
            values = [choice.value for choice in self.choices or []]
            if not values or len(set(values)) != len(values):
                raise ValueError(f"{self.name}: a {self.type.value} field needs choices with distinct values")
        for low, high in (
            ("min_length", "max_length"),
            ("minimum", "maximum"),
            ("min_items", "max_items"),
            ("min_days_ahead", "max_days_ahead"),
        ):
            if (
                getattr(self, low) is not None
                and getattr(self, high) is not None
                and getattr(self, low) > getattr(self, high)
            ):
                raise ValueError(f"{self.name}: {low} is greater than {high}")
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"{self.name}: pattern does not compile ({exc})") from None
        if self.type is FieldType.ITEMS:
            if self.maximum is None or self.maximum < 1:
                raise ValueError(f"{self.name}: an items field needs maximum (the largest quantity of one item) >= 1")
            if self.max_total is not None and any(choice.volume_m3 is None for choice in self.choices or []):
                raise ValueError(f"{self.name}: with max_total every choice needs volume_m3")
        return self


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
    # What the procedure can do besides its form, by capability name, with each one's settings (validated by the
    # capability when the catalogue loads: omnicity.capabilities). Mapping order is the order their hooks run in.
    capabilities: dict[str, Any] = {}
    document: DocumentSpec | None = None
    fields: list[FormField] = []
    form_rules: list[str] = []
    retention_days: Annotated[int, Field(ge=1, le=36500)] = 3650  # how long a closed case is kept (DynamoDB TTL)

    def photo_keys(self, form: Mapping[str, Any]) -> list[str]:
        """The upload keys a case's form holds in its photos fields: field after field, each in its order (the
        index an agent names a photo by, ``omnicity.application.back_office``)."""
        keys: list[str] = []
        for field in self.fields:
            value = form.get(field.name) if field.type is FieldType.PHOTOS else None
            if isinstance(value, list):
                keys += [str(key) for key in value]
        return keys


# ---------------------------------------------------------------------------------------------------- cases
class Applicant(Frozen):
    """Who asked. ``nrn`` is None for an anonymous report (an alert): such a case is followed by its reference."""

    nrn: str | None = None
    email: str | None = None


class TimelineEntry(Frozen):
    at: datetime
    status: CaseStatus
    event: str
    actor: str
    note: LocalizedText | None = None


class DocumentStatus(StrEnum):
    """Whether an issued document still holds, as anyone verifying it by its code is told."""

    VALID = "valid"
    REVOKED = "revoked"  # an agent of the department that handles its case withdrew it
    CANCELLED = "cancelled"  # its case was cancelled


class CaseDocument(Frozen):
    """A document the city issued on a case. Revoking it (``omnicity.application.revocations``) sets ``revoked_at``
    and ``revocation_reason`` together, once: a revocation is never undone nor changed."""

    document_id: str
    kind: str
    language: Language
    key: str
    content_type: str = "application/pdf"
    sha256: str | None = None
    created_at: datetime
    revoked_at: datetime | None = None
    revocation_reason: str | None = None  # the agent's words, for the case's citizen (never public)

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class Failure(Frozen):
    """Why a workflow stopped: for agents and ops; the citizen sees a localized reason instead."""

    error: str
    cause: str
    step: str | None = None


class Inquiry(Frozen):
    """A question an agent asked the citizen about their case (``omnicity.application.inquiries``), and the citizen's
    answer.

    While a question waits for its answer, the case is ``awaiting_citizen`` and its SLA clock is stopped."""

    task_id: str  # the agent task the question was asked from (it waits for the answer)
    asked_at: datetime
    asked_by: str
    question: str
    answered_at: datetime | None = None
    answer: str | None = None
    attachments: list[str] = []  # the citizen's own uploads (keys), sent with the answer

    @property
    def is_open(self) -> bool:
        return self.answered_at is None


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
    outcome: str | None = None
    failure: Failure | None = None
    timeline: list[TimelineEntry]
    documents: list[CaseDocument] = []
    submitted_by: str
    handoff_code: str | None = None
    uploads_owner: str | None = None
    public: bool = False  # listed publicly (Open311 GET requests): a case of a procedure open to anonymous reports
    due_on: date | None = None  # the SLA due date once pinned (omnicity.domain.sla; None: computed from the submission)
    sla_suspended_at: datetime | None = None  # the SLA clock stopped while the case waits for the citizen
    inquiries: list[Inquiry] = []  # the agents' questions to the citizen and the answers, oldest first
    # The photos (upload keys of the form's photos) an agent of the handling department made public (Open311's
    # media_url), in the order they were published; a photo no agent published is never public.
    published_photos: list[str] = []
    created_at: datetime
    updated_at: datetime
    version: int = 0

    @property
    def applicant_nrn(self) -> str:
        """The applicant's national register number; an anonymous case has none (its steps must not ask)."""
        if self.applicant.nrn is None:
            raise ValueError(f"case {self.case_id} is anonymous: it has no applicant in the registers")
        return self.applicant.nrn

    def document(self, document_id: str) -> CaseDocument | None:
        return next((doc for doc in self.documents if doc.document_id == document_id), None)

    def document_status(self, document: CaseDocument) -> tuple[DocumentStatus, datetime | None]:
        """Whether ``document`` (one of this case's) still holds, and since when it does not: revoked (from its
        revocation, whatever became of the case since), else cancelled with its case (from the cancellation), else
        valid (None)."""
        if document.revoked_at is not None:
            return DocumentStatus.REVOKED, document.revoked_at
        if self.status is CaseStatus.CANCELLED:
            cancelled = next((e.at for e in self.timeline if e.status is CaseStatus.CANCELLED), self.updated_at)
            return DocumentStatus.CANCELLED, cancelled
        return DocumentStatus.VALID, None

    @property
    def open_inquiry(self) -> Inquiry | None:
        """The question still waiting for the citizen's answer, if any."""
        return next((inquiry for inquiry in reversed(self.inquiries) if inquiry.is_open), None)

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


# ---------------------------------------------------------------------------------------------------- agent tasks
class TaskStatus(StrEnum):
    OPEN = "open"  # in the queue, nobody's yet
    CLAIMED = "claimed"  # an agent took it (``claimed_by``)
    WAITING_CITIZEN = "waiting_citizen"  # an agent asked the citizen: back in the queue when they answer
    COMPLETED = "completed"
    CANCELLED = "cancelled"  # its case was cancelled: out of the queue, never decided
    FAILED = "failed"  # its case failed (a workflow error, a wait that timed out): out of the queue, never decided

    @property
    def is_pending(self) -> bool:
        """The task still waits for a decision (open, claimed by an agent, or waiting for the citizen's answer)."""
        return self in (TaskStatus.OPEN, TaskStatus.CLAIMED, TaskStatus.WAITING_CITIZEN)

    @property
    def awaits_agent(self) -> bool:
        """The next move is an agent's (open or claimed): its due date runs, it can be overdue."""
        return self in (TaskStatus.OPEN, TaskStatus.CLAIMED)


class AgentTask(Frozen):
    """A human step of a workflow, waiting in a department's queue. Its Step Functions task token stays internal."""

    task_id: str
    case_id: str
    reference: str
    procedure_id: str
    department: str
    kind: str
    outcomes: list[str]
    approving: list[str] = []
    comment_required: bool = False
    instructions: LocalizedText
    status: TaskStatus = TaskStatus.OPEN
    created_at: datetime
    completed_at: datetime | None = None
    completed_by: str | None = None
    outcome: str | None = None
    comment: str | None = None
    due_on: date | None = None  # the case's SLA due date (omnicity.domain.sla): the queue's order
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    task_token: str
    version: int = 0


def brussels_date(moment: datetime) -> date:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo("Europe/Brussels")).date()


def today_in_brussels() -> date:
    from datetime import UTC

    return brussels_date(datetime.now(UTC))
