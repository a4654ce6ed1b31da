"""What the API reads and returns. The OpenAPI document is generated from these models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from omnicity.models import (
    Case,
    CaseStatus,
    Channel,
    DocumentSpec,
    Failure,
    FormField,
    Language,
    LocalizedText,
    Procedure,
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

    @classmethod
    def of(cls, procedure: Procedure) -> ProcedureDetail:
        return cls.model_validate(procedure.model_dump(include=set(cls.model_fields)))


class SubmitCaseRequest(BaseModel):
    """A new case. The channel is never taken from here: it comes from the caller's token."""

    model_config = ConfigDict(extra="ignore")

    procedure_id: Annotated[str, Field(min_length=1, max_length=63, examples=["residence-certificate"])]
    language: Annotated[Language, Field(description="Language of the case, its documents and emails")]
    form: Annotated[dict[str, Any], Field(default_factory=dict, description="The procedure's form fields")]


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
    timeline: list[TimelineView]
    documents: list[DocumentView]
    failure: Annotated[Failure | None, Field(description="Technical cause of a failure (agents only)")] = None

    @classmethod
    def of(cls, case: Case, *, for_agent: bool) -> CaseView:
        data = case.model_dump(exclude={"failure"} if not for_agent else set())
        return cls.model_validate({key: value for key, value in data.items() if key in cls.model_fields})


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
