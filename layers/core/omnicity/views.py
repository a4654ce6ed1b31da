"""What the API reads and returns. The OpenAPI document is generated from these models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from omnicity.form_schema import form_schema
from omnicity.models import (
    AgentTask,
    Case,
    CaseStatus,
    Channel,
    DocumentSpec,
    Failure,
    FormField,
    Language,
    LocalizedText,
    Procedure,
    TaskStatus,
)


class View(BaseModel):
    model_config = ConfigDict(frozen=True)


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
    document: DocumentSpec | None
    fields: list[FormField]
    form_schema: Annotated[
        dict[str, Any], Field(description="The form as JSON Schema (draft 2020-12), labels in fr/nl/en")
    ]

    @classmethod
    def of(cls, procedure: Procedure) -> ProcedureDetail:
        data = procedure.model_dump(include=set(cls.model_fields))
        return cls.model_validate({**data, "form_schema": form_schema(procedure, rules=procedure.form_rules)})


class SubmitCaseRequest(BaseModel):
    """A new case. The channel is never taken from here: it comes from the caller's token."""

    model_config = ConfigDict(extra="ignore")

    procedure_id: Annotated[str, Field(min_length=1, max_length=63, examples=["residence-certificate"])]
    language: Annotated[Language, Field(description="Language of the case, its documents and emails")]
    form: Annotated[dict[str, Any], Field(default_factory=dict, description="The procedure's form fields")]


class ReportRequest(BaseModel):
    """An anonymous report. ``email`` (optional) is where to say how it was handled."""

    model_config = ConfigDict(extra="ignore")

    procedure_id: Annotated[str, Field(min_length=1, max_length=63, examples=["public-space-alert"])]
    language: Language
    form: Annotated[dict[str, Any], Field(default_factory=dict)]
    email: Annotated[str | None, Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class UploadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content_type: Annotated[Literal["image/jpeg", "image/png"], Field(description="The photo's type")]


class CaseCreated(View):
    case_id: str
    reference: Annotated[str, Field(examples=["BXL-2026-000123"])]
    status: CaseStatus


class CaseSummary(View):
    case_id: str
    reference: str
    procedure_id: str
    status: CaseStatus
    channel: Channel
    language: Language
    created_at: datetime
    updated_at: datetime


class CaseList(View):
    items: list[CaseSummary]
    next_cursor: str | None = None


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


class CaseView(CaseSummary):
    form: dict[str, Any]
    reason: LocalizedText | None = None
    outcome: Annotated[str | None, Field(description="What the agent did, for field work (e.g. fixed)")] = None
    timeline: list[TimelineView]
    documents: list[DocumentView]
    failure: Annotated[Failure | None, Field(description="Technical cause of a failure (agents only)")] = None

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
    """What the city vouches for about a document, to anyone holding it (no personal data: compare the digest)."""

    document_id: str
    valid: bool
    reference: str
    procedure_id: str
    title: LocalizedText
    kind: str
    language: Language
    issued_at: datetime
    sha256: Annotated[str | None, Field(description="SHA-256 of the PDF as issued: the copy at hand must match")]


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
    completed_at: datetime | None = None
    completed_by: str | None = None
    outcome: str | None = None
    comment: str | None = None

    @classmethod
    def of(cls, task: AgentTask) -> TaskView:
        return cls.model_validate(task.model_dump(include=set(cls.model_fields)))


class TaskList(View):
    items: list[TaskView]


class CompleteTaskRequest(BaseModel):
    """An agent's decision: one of the task's outcomes, and the reason (required unless the outcome approves)."""

    model_config = ConfigDict(extra="forbid")

    outcome: Annotated[str, Field(min_length=1, max_length=32, examples=["approve"])]
    comment: Annotated[str | None, Field(max_length=2000, examples=["Dossier complet."])] = None
