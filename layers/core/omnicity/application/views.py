"""What the API reads and returns. The OpenAPI document is generated from these models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from omnicity.capabilities.base import CAPABILITIES, CapabilityDescription
from omnicity.domain.models import (
    AgentTask,
    Case,
    CaseDocument,
    CaseStatus,
    Channel,
    DocumentSpec,
    DocumentStatus,
    Failure,
    FormField,
    Language,
    LocalizedText,
    Procedure,
    TaskStatus,
    today_in_brussels,
)
from omnicity.domain.nrn import Nrn
from omnicity.domain.text import TEXT_PATTERN, SafeText, checked_text
from omnicity.forms.schema import form_schema

PROCEDURE_ID = r"^[a-z][a-z0-9-]*$"
# An email address, and a text like any other (its own pattern, and omnicity.domain.text's rule under allOf)
Email = Annotated[
    str,
    Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
    AfterValidator(checked_text),
    Field(json_schema_extra={"allOf": [{"pattern": TEXT_PATTERN}]}),
]


class View(BaseModel):
    """What the API returns. A model's validator and serializer are built when first used (``defer_build``): a cold
    start does not pay for the thirty-odd views and requests, only a request for the few it reads or returns."""

    model_config = ConfigDict(frozen=True, defer_build=True)


class Request(BaseModel):
    """What the API reads; built when first used, as :class:`View`."""

    model_config = ConfigDict(defer_build=True)


class ProcedureSummary(View):
    id: str
    title: LocalizedText
    summary: LocalizedText
    fee_cents: int
    channels: list[Channel]

    @classmethod
    def of(cls, procedure: Procedure) -> ProcedureSummary:
        return cls.model_validate(procedure.model_dump(include=set(cls.model_fields)))


class ProcedureList(View):
    items: list[ProcedureSummary]


class ProcedureDetail(ProcedureSummary):
    help: LocalizedText
    department: str
    sla_business_days: int
    retention_days: Annotated[int, Field(description="How many days a closed case is kept, then deleted")]
    document: DocumentSpec | None
    fields: list[FormField]
    form_schema: Annotated[
        dict[str, Any], Field(description="The form as JSON Schema (draft 2020-12), labels in fr/nl/en")
    ]
    capabilities: Annotated[
        list[CapabilityDescription],
        Field(
            description=(
                "What the procedure does besides its form, each with the settings a client may rely on: booking (a "
                "day to choose among GET .../slots, and until when a booking can be cancelled), review (an agent "
                "decides), routing (the department follows a form field), photos (the fields that take uploads), "
                "anonymous_reports (POST /v1/reports without an account), card_order (a letter from the card producer)"
            )
        ),
    ]

    @classmethod
    def of(cls, procedure: Procedure) -> ProcedureDetail:
        data = procedure.model_dump(include=set(cls.model_fields) - {"capabilities"})
        return cls.model_validate(
            {
                **data,
                "form_schema": form_schema(procedure, rules=procedure.form_rules),
                "capabilities": CAPABILITIES.describe(procedure),
            }
        )


class SubmitCaseRequest(Request):
    """A new case. The channel is never taken from here: it comes from the caller's token. An agent at the counter
    names the citizen the case is for (``citizen_nrn``)."""

    model_config = ConfigDict(extra="ignore")

    citizen_nrn: Annotated[Nrn | None, Field(description="At the counter: the citizen's national register number")] = (
        None
    )
    procedure_id: Annotated[
        str, Field(min_length=1, max_length=63, pattern=PROCEDURE_ID, examples=["residence-certificate"])
    ]
    language: Annotated[Language, Field(description="Language of the case, its documents and emails")]
    form: Annotated[dict[str, Any], Field(default_factory=dict, description="The procedure's form fields")]


class ReportRequest(Request):
    """An anonymous report. ``email`` (optional) is where to say how it was handled."""

    model_config = ConfigDict(extra="ignore")

    procedure_id: Annotated[
        str, Field(min_length=1, max_length=63, pattern=PROCEDURE_ID, examples=["public-space-alert"])
    ]
    language: Language
    form: Annotated[dict[str, Any], Field(default_factory=dict)]
    email: Annotated[Email | None, Field(default=None)]


class UploadRequest(Request):
    model_config = ConfigDict(extra="forbid")

    content_type: Annotated[Literal["image/jpeg", "image/png"], Field(description="The photo's type")]


class CaseCreated(View):
    case_id: str
    reference: Annotated[str, Field(examples=["BXL-2026-000123"])]
    status: CaseStatus
    handoff_code: Annotated[
        str | None,
        Field(description="To continue or follow the case on another channel", examples=["K7QMF-3XPDA-HC5RN"]),
    ] = None


class CaseSummary(View):
    case_id: str
    reference: str
    procedure_id: str
    status: CaseStatus
    channel: Channel
    language: Language
    created_at: datetime
    updated_at: datetime


class TimelineView(View):
    at: datetime
    status: CaseStatus
    event: str
    actor: str
    note: LocalizedText | None = None


class DocumentView(View):
    document_id: str
    kind: str
    language: Language
    created_at: datetime
    revoked_at: Annotated[
        datetime | None,
        Field(description="When an agent revoked the document, which then no longer holds (null: not revoked)"),
    ] = None
    revocation_reason: Annotated[str | None, Field(description="Why it was revoked, in the agent's words")] = None


class CaseListItem(CaseSummary):
    """A case in "my cases": whichever channel it came from, with its timeline and documents."""

    timeline: list[TimelineView]
    documents: list[DocumentView]

    @classmethod
    def of(cls, case: Case) -> CaseListItem:
        return cls.model_validate(case.model_dump(include=set(cls.model_fields)))


class CaseList(View):
    items: list[CaseListItem]
    next_cursor: str | None = None


class InquiryView(View):
    """A question an agent asked about the case, and the citizen's answer (none yet: the case awaits it)."""

    asked_at: datetime
    asked_by: Annotated[str, Field(examples=["agent:agent-007"])]
    question: str
    answered_at: datetime | None = None
    answer: str | None = None
    attachments: Annotated[list[str], Field(description="Upload keys sent with the answer")] = []


class CaseView(CaseSummary):
    form: dict[str, Any]
    handoff_code: str | None = None
    handoff_qr: Annotated[str | None, Field(description="The QR payload: the portal's page to continue")] = None
    reason: LocalizedText | None = None
    outcome: Annotated[str | None, Field(description="What the agent did, for field work (e.g. fixed)")] = None
    timeline: list[TimelineView]
    documents: list[DocumentView]
    failure: Annotated[Failure | None, Field(description="Technical cause of a failure (agents only)")] = None
    inquiries: Annotated[
        list[InquiryView], Field(description="The city's questions about the case, and the answers")
    ] = []
    published_photos: Annotated[
        list[str],
        Field(description="The form's photos an agent made public (Open311), by upload key; the others are not"),
    ] = []

    @classmethod
    def of(cls, case: Case, *, for_agent: bool) -> CaseView:
        data = case.model_dump(exclude={"failure"} if not for_agent else set())
        return cls.model_validate({key: value for key, value in data.items() if key in cls.model_fields})


class TrackEntry(View):
    at: datetime
    status: CaseStatus
    event: str


class TrackView(View):
    """An anonymous report as anyone holding its reference sees it: no form, no names, no comments."""

    reference: str
    procedure_id: str
    status: CaseStatus
    outcome: str | None = None
    created_at: datetime
    updated_at: datetime
    timeline: list[TrackEntry]

    @classmethod
    def of(cls, case: Case) -> TrackView:
        data = case.model_dump(include={"reference", "procedure_id", "status", "outcome", "created_at", "updated_at"})
        timeline = [TrackEntry(at=e.at, status=e.status, event=e.event) for e in case.timeline]
        return cls.model_validate({**data, "timeline": timeline})


class DocumentVerification(View):
    """What the city vouches for about a document, to anyone holding it (no personal data: compare the digest).

    A revoked document says so and since when, never why: the reason is the agent's free text, written for the
    document's holder, and may name people or facts about them (the holder reads it on their case)."""

    document_id: str
    valid: Annotated[bool, Field(description="The document holds: neither revoked nor issued on a cancelled case")]
    status: Annotated[
        DocumentStatus,
        Field(description="valid; revoked (an agent withdrew it); cancelled (its case was cancelled)"),
    ]
    revoked_at: Annotated[
        datetime | None,
        Field(description="Since when the document no longer holds (its revocation, or its case's cancellation)"),
    ] = None
    reference: str
    procedure_id: str
    title: LocalizedText
    kind: str
    language: Language
    issued_at: datetime
    sha256: Annotated[str | None, Field(description="SHA-256 of the PDF as issued: the copy at hand must match")]

    @classmethod
    def of(cls, case: Case, document: CaseDocument, title: LocalizedText) -> DocumentVerification:
        """``document`` of ``case``, as anyone holding it is told (``title``: its procedure's document title)."""
        status, since = case.document_status(document)
        return cls(
            document_id=document.document_id,
            valid=status is DocumentStatus.VALID,
            status=status,
            revoked_at=since,
            reference=case.reference,
            procedure_id=case.procedure_id,
            title=title,
            kind=document.kind,
            language=document.language,
            issued_at=document.created_at,
            sha256=document.sha256,
        )


class RevokeDocumentRequest(Request):
    """Why an agent revokes a document. The case's citizen reads it as it is (on the case, and in the email that
    tells them): written in the case's language, it is never shown to whoever verifies the document."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: Annotated[
        SafeText,
        Field(
            min_length=1,
            max_length=500,
            examples=["Autorisation retirée : la zone Mont des Arts est fermée pour travaux jusqu'au 30 juin."],
        ),
    ]


class RevokedDocument(View):
    """A document an agent revoked, as its case now holds it."""

    case_id: str
    reference: Annotated[str, Field(examples=["BXL-2026-000123"])]
    document: DocumentView


class DocumentUrl(View):
    url: str
    expires_in: int


class ErrorDetail(View):
    field: str | None = None
    reason: str


class ErrorInfo(View):
    code: str
    message: str
    details: list[ErrorDetail]


class ErrorResponse(View):
    error: ErrorInfo


class TaskView(View):
    task_id: str
    case_id: str
    reference: str
    procedure_id: str
    department: str
    kind: str
    outcomes: list[str]
    approving: list[str]
    instructions: LocalizedText
    status: TaskStatus
    created_at: datetime
    due_on: Annotated[date | None, Field(description="The case's SLA due date (business days, Brussels)")] = None
    overdue: Annotated[bool, Field(description="Still to decide, and due before today")] = False
    claimed_by: Annotated[str | None, Field(examples=["agent:agent-007"])] = None
    claimed_at: datetime | None = None
    completed_at: datetime | None = None
    completed_by: str | None = None
    outcome: str | None = None
    comment: str | None = None

    @classmethod
    def of(cls, task: AgentTask, today: date | None = None) -> TaskView:
        data = task.model_dump(include=set(cls.model_fields))
        overdue = task.status.awaits_agent and task.due_on is not None and task.due_on < (today or today_in_brussels())
        return cls.model_validate({**data, "overdue": overdue})


class TaskList(View):
    items: list[TaskView]


class CompleteTaskRequest(Request):
    """An agent's decision: one of the task's outcomes, and the reason (required unless the outcome approves)."""

    model_config = ConfigDict(extra="forbid")

    outcome: Annotated[str, Field(min_length=1, max_length=32, examples=["approve"])]
    comment: Annotated[SafeText | None, Field(max_length=2000, examples=["Dossier complet."])] = None


class AskCitizenRequest(Request):
    """An agent's question to the citizen (a missing document, a detail): the case waits for the answer, and its
    SLA clock stops until then. Written in the case's language: the citizen reads it as it is."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    question: Annotated[
        SafeText, Field(min_length=1, max_length=2000, examples=["Pouvez-vous joindre une photo du lieu exact ?"])
    ]


class ReplyRequest(Request):
    """The citizen's answer to the question their case waits on, with photos uploaded first (``POST /v1/uploads``)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    answer: Annotated[SafeText, Field(min_length=1, max_length=4000, examples=["Voici la photo demandée."])]
    attachments: Annotated[
        list[Annotated[SafeText, Field(max_length=300)]],
        Field(max_length=3, description="Keys of the citizen's own uploads (POST /v1/uploads)"),
    ] = []


class ReassignTaskRequest(Request):
    """Hand a task to another agent of its department (by their id, as their token names them)."""

    model_config = ConfigDict(extra="forbid")

    agent: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")]


class AccessEntry(View):
    """One read of a case by an agent: who, for which department, when, why."""

    at: datetime
    agent: Annotated[str, Field(description="The agent's id", examples=["agent-007"])]
    department: str | None = None
    reason: Annotated[str, Field(examples=["case view"])]


class AccessLog(View):
    """Who read the case (agents only: the citizen's own reads are not logged), newest first."""

    items: list[AccessEntry]


class ApplicantView(View):
    nrn: Annotated[str | None, Field(description="National register number (None: an anonymous report)")]
    email: str | None = None


class AgentCaseView(CaseView):
    """A case's whole file for the agents who handle it: the applicant, the SLA, the tasks, who read it."""

    applicant: ApplicantView
    department: Annotated[str, Field(description="The department that handles the case")]
    due_on: Annotated[date, Field(description="SLA due date (business days from submission, Brussels)")]
    overdue: bool
    sla_suspended: Annotated[bool, Field(description="The clock is stopped: the case waits for the citizen")] = False
    tasks: list[TaskView]
    access_log: list[AccessEntry]


class PublishedPhotos(View):
    """The photos of a case an agent made public: Open311's ``media_url`` links to the first of them in the form's
    order. A photo no agent published is never public."""

    case_id: str
    reference: Annotated[str, Field(examples=["BXL-2026-000123"])]
    published_photos: Annotated[
        list[str], Field(description="Upload keys of the form's photos made public, in the order they were published")
    ]
