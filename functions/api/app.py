"""The HTTPS API for the portal, the kiosks and the counter: routes only.

Each route reads the validated input, asks one of the layer's use cases, returns a view model. The HTTP edge is the
layer's (``omnicity.http``): every error is written as ``{"error": {"code", "message", "details"}}`` by
``omnicity.http.errors``, a body over the limit is refused before the resolver runs (``omnicity.http.edge``), and the
caller's channel is their token's app client (``omnicity.http.channels``).
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from omnicity.adapters.agents import CognitoAgentDirectory
from omnicity.adapters.audit import AuditTrail
from omnicity.adapters.cases import CaseRepository
from omnicity.adapters.documents import DocumentStore, Uploads, UploadSlot
from omnicity.adapters.executions import WorkflowResumer, WorkflowStarter
from omnicity.adapters.notifications import EmailSender
from omnicity.adapters.slots import SlotBook
from omnicity.adapters.stats import StatsRepository
from omnicity.adapters.tasks import TaskRepository
from omnicity.adapters.throttle import CallerLimit, Limit, Throttle, caller_of_address
from omnicity.application.back_office import CaseFile
from omnicity.application.cancellation import Cancellations
from omnicity.application.case_reads import CaseReads
from omnicity.application.desk import AgentDesk
from omnicity.application.idempotency import (
    IDEMPOTENCY_HEADER,
    KEY_MAX_LENGTH,
    KEY_MIN_LENGTH,
    KEY_PATTERN,
    KEY_RULE,
    RECORD_TTL_SECONDS,
    IdempotentSubmissions,
)
from omnicity.application.inquiries import Inquiries
from omnicity.application.revocations import Revocations
from omnicity.application.stats import Figures, StatsService
from omnicity.application.submissions import Submissions
from omnicity.application.views import (
    AccessLog,
    AgentCaseView,
    AskCitizenRequest,
    CaseCreated,
    CaseList,
    CaseView,
    CompleteTaskRequest,
    DocumentUrl,
    DocumentVerification,
    ErrorResponse,
    ProcedureDetail,
    ProcedureList,
    ProcedureSummary,
    PublishedPhotos,
    ReassignTaskRequest,
    ReplyRequest,
    ReportRequest,
    RevokedDocument,
    RevokeDocumentRequest,
    SubmitCaseRequest,
    TaskList,
    TaskView,
    TrackView,
    UploadRequest,
)
from omnicity.capabilities.booking import SlotList
from omnicity.catalogue import DeferredCatalogue, retention_days_of
from omnicity.config import ApiSettings, load_settings
from omnicity.domain.identity import Principal
from omnicity.domain.models import TaskStatus
from omnicity.domain.text import SafeText
from omnicity.http.channels import client_channels, principal_of
from omnicity.http.edge import parse_json_object, refuse_too_large, secure
from omnicity.http.errors import install_error_handlers, json_error
from omnicity.observability import logger, metrics, tracer

settings = load_settings(ApiSettings)


CORS = CORSConfig(allow_origin=settings.allowed_origin, allow_headers=["Idempotency-Key"], max_age=600)
app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=parse_json_object, cors=CORS)
install_error_handlers(app, json_error, no_route="no such route", body="json")
# One description of the API for Swagger UI (/swagger) and the committed openapi.json (make openapi). Plain mappings
# (Powertools validates them into its OpenAPI models when it builds the document): those models are needed by GET
# /swagger only, and importing them here would lengthen every cold start.
OPENAPI: dict[str, Any] = {
    "title": "omnicity API",
    "version": "1.0.0",
    "description": (
        "A city's administrative procedures on every channel: portal, kiosk and counter. Protected operations take "
        "the ID token of the channel's app client as a bearer token; the channel of a case is the token's client. "
        'Every error is JSON: {"error": {"code", "message", "details": [{"field", "reason"}]}}.'
    ),
    "license_info": {"name": "EUPL-1.2", "identifier": "EUPL-1.2"},
    "security_schemes": {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "ID token of the channel's app client",
        }
    },
    # Every operation's tag, declared once, in the order a reader meets them.
    "tags": [
        {"name": "procedures", "description": "The catalogue (public): what one can request, its form, the days open."},
        {
            "name": "cases",
            "description": (
                "A citizen's own cases, from the portal, a kiosk or an agent at the counter: submit, follow, answer, "
                "cancel; photo uploads; continuing a case by its hand-off code."
            ),
        },
        {
            "name": "documents",
            "description": "Verifying an issued document by the code printed on it (public): its digest, and whether "
            "it still holds.",
        },
        {
            "name": "reports",
            "description": "Anonymous reports (e.g. a public-space alert) and their tracking (public).",
        },
        {
            "name": "agents",
            "description": (
                "The back office, for agents of the department concerned: task queues, deciding a task, asking the "
                "citizen, a case's whole file (each read is logged in the case's audit trail), publishing an alert's "
                "photo, revoking an issued document."
            ),
        },
        {"name": "figures", "description": "The city's figures: products delivered, by channel and procedure."},
    ],
}
# Where the API is served, for the committed document only: Swagger UI keeps Powertools' default, the base path it is
# served from (the stage on AWS), so that "Try it out" calls the API that served the page.
OPENAPI_SERVERS: list[dict[str, Any]] = [
    {"url": "http://127.0.0.1:3000", "description": "The local runtime (make run)"},
    {
        "url": "https://{api_id}.execute-api.{region}.amazonaws.com/{stage}",
        "description": "A deployed stack (its ApiUrl output)",
        "variables": {
            "api_id": {"default": "0123456789", "description": "The REST API's id (OmnicityApi)"},
            "region": {"default": "eu-west-1"},
            "stage": {"default": "dev", "enum": ["dev", "prod"]},
        },
    },
]


@cache
def enable_swagger() -> None:
    """Swagger UI at /swagger, registered when the first request for it arrives: Powertools' enable_swagger loads
    its OpenAPI models, which no other route needs (a sixth of this function's init: bench/RESULTS.md)."""
    app.enable_swagger(path="/swagger", **OPENAPI)


SECURED: list[dict[str, list[str]]] = [{"bearer": []}]
# A public operation says so: Powertools writes no empty security list, infra/openapi.py writes it (security: []).
PUBLIC: list[dict[str, list[str]]] = []
CaseId = Annotated[str, Path(min_length=1, max_length=64)]
DocumentId = Annotated[str, Path(min_length=1, max_length=64)]
ProcedureId = Annotated[str, Path(min_length=1, max_length=63)]
TaskId = Annotated[str, Path(min_length=1, max_length=64)]
# A photo of a case by its place in the form (from 0): a form holds a few photos at most.
PhotoNumber = Annotated[int, Path(ge=0, le=99, description="The photo's place in the form, from 0", examples=[0])]
# Why an agent reads a case: logged in its audit trail, shown to its citizen ("case view" when not given).
ReadReason = Annotated[SafeText | None, Query(min_length=1, max_length=200, examples=["phone call from the citizen"])]
HandoffCode = Annotated[str, Path(min_length=15, max_length=24, examples=["K7QMF-3XPDA-HC5RN"])]
DocumentCode = Annotated[str, Path(pattern=r"^doc-[0-9a-f]{20}$", examples=["doc-3574ac4bbd065f42976b"])]
Reference = Annotated[str, Path(pattern=r"^[A-Z]{2,5}-\d{4}-\d{6}$", examples=["BXL-2026-000123"])]


def _responses(model: type[Any], *errors: int, status: int = 200) -> dict[int, Any]:
    """The documented responses: the success model, then each error status with the one error shape (422 always:
    every route validates its input; 413 always: a body over MAX_BODY_BYTES is refused on every route)."""
    documented: dict[int, Any] = {status: {"description": "Success", "content": {"application/json": {"model": model}}}}
    error_content = {"application/json": {"model": ErrorResponse}}
    for error in sorted({*errors, 413, 422}):
        documented[error] = {"description": "Error", "content": error_content}
    return documented


def _too_many(what: str) -> dict[int, Any]:
    """A documented 429: the caller is over a limit, and may try again after Retry-After seconds."""
    return {
        429: {
            "description": what,
            "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
            "content": {"application/json": {"model": ErrorResponse}},
        }
    }


# ---------------------------------------------------------------------------------------------- wiring
# Every service is built once, here, at cold start, from the settings validated above: a missing setting stops the
# function before its first request. No AWS client is created until a request needs it.
catalogue = DeferredCatalogue()  # read on first use: the init stays lean
cases = CaseRepository(settings.table_name, retention=retention_days_of)
tasks = TaskRepository(settings.table_name, retention=retention_days_of)
throttle = Throttle(settings.table_name)
slot_book = SlotBook(settings.table_name)
uploads = Uploads(settings.documents_bucket)
mailer = EmailSender(settings.sender_email)
desk = AgentDesk(tasks, catalogue, WorkflowResumer(), agents=CognitoAgentDirectory(settings.agents_user_pool_id))
case_file = CaseFile(cases, tasks, AuditTrail(settings.table_name, retention=retention_days_of), catalogue)
inquiries = Inquiries(cases, tasks, catalogue, uploads, mailer)
revocations = Revocations(cases, catalogue, mailer)
stats = StatsService(StatsRepository(settings.table_name), catalogue)
REPORT_LIMIT = Limit(
    "report",
    settings.anonymous_report_limit,
    settings.anonymous_report_window_seconds,
    "too many reports from your address",
)
HANDOFF_FAILURES = Limit(
    "handoff_failure",
    settings.handoff_failure_limit,
    settings.handoff_failure_window_seconds,
    "too many wrong hand-off codes",
)
submissions = Submissions(
    cases,
    catalogue,
    WorkflowStarter(settings.state_machine_arn),
    slot_book,
    uploads,
    CallerLimit(throttle, REPORT_LIMIT),
)
reads = CaseReads(
    cases,
    catalogue,
    DocumentStore(settings.documents_bucket),
    case_file,
    CallerLimit(throttle, HANDOFF_FAILURES),
    settings.document_url_ttl_seconds,
    settings.portal_url,
)
cancellations = Cancellations(cases, catalogue, slot_book, desk)
idempotent = IdempotentSubmissions(settings.idempotency_table_name)


CLIENTS = client_channels(settings)


def principal() -> Principal:
    """The caller of the current request, on the channel of their token's app client."""
    return principal_of(app.current_event, CLIENTS)


# ---------------------------------------------------------------------------------------------- catalogue (public)
@app.get(
    "/v1/procedures",
    tags=["procedures"],
    summary="The procedures a citizen can request",
    description=(
        "Every procedure of the catalogue with its titles and summaries in French, Dutch and English, its fee and the "
        "channels it is offered on."
    ),
    security=PUBLIC,
    responses=_responses(ProcedureList),
)
def list_procedures() -> ProcedureList:
    return ProcedureList(items=[ProcedureSummary.of(p) for p in catalogue.all()])


@app.get(
    "/v1/procedures/<procedure_id>",
    tags=["procedures"],
    summary="One procedure with its form",
    description=(
        "One procedure with its form: each field's type, validation rules and labels in French, Dutch and English, as "
        "the submission of a case is checked against them. 404 for a procedure the catalogue does not hold."
    ),
    security=PUBLIC,
    responses=_responses(ProcedureDetail, 404),
)
def get_procedure(procedure_id: ProcedureId) -> ProcedureDetail:
    return ProcedureDetail.of(catalogue.get(procedure_id))


@app.get(
    "/v1/procedures/<procedure_id>/slots",
    tags=["procedures"],
    summary="The days one can book now, with places left (procedures that book a day, e.g. bulky-items-removal)",
    description=(
        "For a procedure that books a day (e.g. bulky-items-removal): the days one can book now, each with its "
        "capacity and the places left. 404 for an unknown procedure or one that books no day."
    ),
    security=PUBLIC,
    responses=_responses(SlotList, 404),
)
def list_slots(procedure_id: ProcedureId) -> SlotList:
    return submissions.open_slots(procedure_id)


# ---------------------------------------------------------------------------------------------- cases
# A retried submission (a lost reply, a double click) with the same key makes no second case: the reply is the
# first one's 201 again, for 24 hours. Validated by omnicity.application.idempotency (400 naming the header): the
# schema below documents the same rule.
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=IDEMPOTENCY_HEADER,
        description=(
            "Optional. A key the client makes up for one submission (e.g. a UUID) and sends again on each retry: "
            f"the same caller, channel and key give the same case and the same 201 reply for "
            f"{RECORD_TTL_SECONDS // 3600} hours. The same key with another body is a 422; while the first request "
            f"is still running, a 409 with Retry-After. Key: {KEY_RULE}."
        ),
        json_schema_extra={"minLength": KEY_MIN_LENGTH, "maxLength": KEY_MAX_LENGTH + 2, "pattern": KEY_PATTERN},
        examples=["8e03978e-40d5-43e8-bc93-6894a57f9324"],
    ),
]


@app.post(
    "/v1/cases",
    tags=["cases"],
    summary="Submit a case; starts the procedure's workflow",
    description=(
        "A citizen (portal, kiosk) submits a case for themself; an agent at the counter submits one for a citizen "
        "named by citizen_nrn. The form is checked against the procedure's, the case gets its reference and hand-off "
        "code, and the procedure's workflow starts. The channel is the token's app client, never the body. An "
        "Idempotency-Key makes retries safe."
    ),
    status_code=201,
    security=SECURED,
    responses={
        **_responses(CaseCreated, 400, 401, 403, 404, 409, status=201),
        409: {
            "description": (
                f"A request with this {IDEMPOTENCY_HEADER} is still being processed (retry after Retry-After), or "
                "the day booked has no place left"
            ),
            "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
            "content": {"application/json": {"model": ErrorResponse}},
        },
    },
)
def submit_case(request: SubmitCaseRequest, idempotency_key: IdempotencyKey = None) -> CaseCreated:
    caller = principal()

    def submit() -> CaseCreated:
        created = submissions.submit(caller, request)
        metrics.add_metric(name="CasesSubmitted", unit="Count", value=1)
        return created

    return idempotent.submit(submit, principal=caller, key=idempotency_key, request=request, context=app.lambda_context)


@app.get(
    "/v1/cases",
    tags=["cases"],
    summary="The caller's own cases",
    description="The caller's cases, newest first, a page at a time: pass the cursor of one page to read the next.",
    security=SECURED,
    responses=_responses(CaseList, 400, 401, 403),
)
def list_cases(
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> CaseList:
    return reads.list_own(principal(), limit, cursor)


@app.get(
    "/v1/cases/<case_id>",
    tags=["cases"],
    summary="A case: status, timeline, documents",
    description=(
        "The case's status, dated timeline, documents and, once decided, the reason. Its citizen reads it; so do "
        "agents of the department that handles it, whose read is logged with its reason. A case one may not read is "
        "the same 404 as one that does not exist."
    ),
    security=SECURED,
    responses=_responses(CaseView, 401, 403, 404),
)
def get_case(case_id: CaseId, reason: ReadReason = None) -> CaseView:
    return reads.get(principal(), case_id, reason)


@app.get(
    "/v1/cases/<case_id>/documents/<document_id>",
    tags=["cases"],
    summary="A short-lived download URL for a case's document",
    description=(
        "A presigned link to one of the case's documents, valid a few minutes (expires_in). Readers as for the case; "
        "an agent's read is logged with its reason."
    ),
    security=SECURED,
    responses=_responses(DocumentUrl, 401, 403, 404),
)
def get_document(case_id: CaseId, document_id: DocumentId, reason: ReadReason = None) -> DocumentUrl:
    return reads.document_url(principal(), case_id, document_id, reason)


@app.get(
    "/v1/cases/<case_id>/access-log",
    tags=["cases"],
    summary="My file: which agent read my case, for which department, when and why (the case's citizen)",
    description=(
        "Every read of the case by an agent, newest first: who, for which department, when and why. Only the case's "
        "citizen reads it."
    ),
    security=SECURED,
    responses=_responses(AccessLog, 401, 403, 404),
)
def get_access_log(case_id: CaseId) -> AccessLog:
    return case_file.access_log(principal(), case_id)


@app.post(
    "/v1/cases/<case_id>/cancel",
    tags=["cases"],
    summary="Cancel one's booking (up to two days before the collection): the place is freed, the case is cancelled",
    description=(
        "The case's citizen cancels a booked day up to two days before it: the place is freed and the case ends "
        "cancelled. Cancelling a cancelled case again is a 200; a 409 once too late or when the case has ended "
        "otherwise."
    ),
    security=SECURED,
    responses=_responses(CaseView, 401, 403, 404, 409),
)
def cancel_case(case_id: CaseId) -> CaseView:
    return cancellations.cancel(principal(), case_id)


@app.post(
    "/v1/cases/<case_id>/reply",
    tags=["cases"],
    summary="Answer the question the case waits on (status awaiting_citizen): it goes back to the agent",
    description=(
        "The case's citizen answers the question an agent asked, with optional attachments (keys of their own "
        "uploads): the case goes back to the agent and its SLA clock restarts. 409 when the case awaits no answer."
    ),
    security=SECURED,
    responses=_responses(CaseView, 400, 401, 403, 404, 409, 422),
)
def reply_to_case(case_id: CaseId, request: ReplyRequest) -> CaseView:
    return inquiries.reply(principal(), case_id, request)


@app.post(
    "/v1/uploads",
    tags=["cases"],
    summary="A presigned S3 POST to upload one photo (JPEG or PNG, 5 MB at most); reference its key in a form",
    description=(
        "A presigned S3 POST (url, fields, key) for one JPEG or PNG photo of 5 MB at most, under the caller's own "
        "folder and valid a few minutes. Photos never go through the API: a form or a reply references the returned "
        "key once the photo is uploaded."
    ),
    status_code=201,
    security=SECURED,
    responses=_responses(UploadSlot, 400, 401, 403, status=201),
)
def create_upload(request: UploadRequest) -> UploadSlot:
    return submissions.upload_slot(principal(), request)


@app.post(
    "/v1/handoff/<code>",
    tags=["cases"],
    summary="Continue a case by its hand-off code (from a kiosk or the counter); attaches an anonymous report",
    description=(
        "A citizen signed in on the portal continues a case begun at a kiosk or the counter by the hand-off code "
        "printed there; an anonymous report's code attaches the report to the caller's account. A code no case has is "
        "a 404 and counts as a wrong one; a mistyped code (its check character) is a 422; after a few wrong codes, "
        "every code is refused for a while (429, Retry-After)."
    ),
    security=SECURED,
    responses={
        **_responses(CaseView, 401, 403, 404),
        **_too_many("Too many wrong codes lately: every code is refused until Retry-After seconds have passed"),
    },
)
def continue_case(code: HandoffCode) -> CaseView:
    return reads.continue_case(principal(), code)


@app.get(
    "/v1/documents/<document_id>",
    tags=["documents"],
    summary="Verify a document by the code printed on it: who issued it, when, the digest of the PDF, whether it holds",
    description=(
        "Anyone holding an issued document checks it by the code printed on it: the reference, the kind of document, "
        "the date of issue, the SHA-256 digest its PDF must have, and whether it still holds (valid), or since when "
        "it does not: revoked by an agent, or its case cancelled (status, revoked_at). Never why, nor anything about "
        "its holder. 404 for a code the city never issued."
    ),
    security=PUBLIC,
    responses=_responses(DocumentVerification, 404),
)
def verify_document(document_id: DocumentCode) -> DocumentVerification:
    return reads.verify_document(document_id)


# ---------------------------------------------------------------------------------------------- anonymous reports
@app.post(
    "/v1/reports",
    tags=["reports"],
    summary="Report anonymously (procedures that allow it, e.g. public-space-alert); follow it by its reference",
    description=(
        "Anyone reports without an account, for the procedures that allow it (e.g. public-space-alert), with an "
        "optional e-mail address for the answer. The reply's reference follows the report; its hand-off code attaches "
        "it to an account later."
    ),
    status_code=201,
    security=PUBLIC,
    responses={
        **_responses(CaseCreated, 400, 403, 404, status=201),
        **_too_many("Too many reports from this address lately: retry after Retry-After seconds"),
    },
)
def submit_report(request: ReportRequest) -> CaseCreated:
    source = caller_of_address(app.current_event.request_context.identity.source_ip)
    created = submissions.report(request, source)
    metrics.add_metric(name="CasesSubmitted", unit="Count", value=1)
    return created


@app.get(
    "/v1/reports/<reference>",
    tags=["reports"],
    summary="Where an anonymous report stands",
    description=(
        "Where an anonymous report stands, by its reference: status, outcome and dated steps, without its form or any "
        "name."
    ),
    security=PUBLIC,
    responses=_responses(TrackView, 404),
)
def track_report(reference: Reference) -> TrackView:
    return reads.track(reference)


# ---------------------------------------------------------------------------------------------- agents
@app.get(
    "/v1/agent/tasks",
    tags=["agents"],
    summary="A department's task queue (agents of that department): overdue first, then by due date, then oldest",
    description=(
        "The tasks of one department, for its agents: overdue first, then by due date, then oldest. Filter by status, "
        "procedure and overdue."
    ),
    security=SECURED,
    responses=_responses(TaskList, 401, 403),
)
def list_agent_tasks(
    department: Annotated[str, Query(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_-]*$")],
    status: Annotated[TaskStatus, Query()] = TaskStatus.OPEN,
    procedure: Annotated[str | None, Query(min_length=1, max_length=63, pattern=r"^[a-z][a-z0-9-]*$")] = None,
    overdue: Annotated[bool | None, Query(description="true: only the overdue tasks; false: only the others")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> TaskList:
    return desk.queue(principal(), department, status, limit, procedure_id=procedure, overdue=overdue)


@app.post(
    "/v1/agent/tasks/<task_id>/claim",
    tags=["agents"],
    summary="Claim an open task (of two agents claiming it at once, one wins, the other gets 409)",
    description=(
        "An agent of the task's department takes an open task: it is then theirs to decide. Of two agents claiming at "
        "once one wins; the other, and any claim of a task no longer open, gets a 409."
    ),
    security=SECURED,
    responses=_responses(TaskView, 401, 403, 404, 409),
)
def claim_agent_task(task_id: TaskId) -> TaskView:
    return desk.claim(principal(), task_id)


@app.post(
    "/v1/agent/tasks/<task_id>/release",
    tags=["agents"],
    summary="Give a task one claimed back to the open queue (only the agent who claimed it)",
    description=(
        "The agent who claimed a task gives it back to the department's open queue. 409 for anyone else, or for a task "
        "not claimed."
    ),
    security=SECURED,
    responses=_responses(TaskView, 401, 403, 404, 409),
)
def release_agent_task(task_id: TaskId) -> TaskView:
    return desk.release(principal(), task_id)


@app.post(
    "/v1/agent/tasks/<task_id>/reassign",
    tags=["agents"],
    summary="Hand a task one claimed (or nobody's) to another agent, in whose name it is then claimed",
    description=(
        "An agent of the task's department hands a task they claimed, or nobody's, to another agent, in whose name it "
        "is then claimed."
    ),
    security=SECURED,
    responses=_responses(TaskView, 400, 401, 403, 404, 409),
)
def reassign_agent_task(task_id: TaskId, request: ReassignTaskRequest) -> TaskView:
    return desk.reassign(principal(), task_id, request)


@app.post(
    "/v1/agent/tasks/<task_id>/ask",
    tags=["agents"],
    summary="Ask the citizen for information (task nobody's or the caller's): the case waits, its SLA clock stops",
    description=(
        "An agent asks the case's citizen a question (a task nobody's or the caller's; not for an anonymous report). "
        "The task waits, the case awaits the citizen and its SLA clock stops until the answer."
    ),
    security=SECURED,
    responses=_responses(TaskView, 400, 401, 403, 404, 409, 422),
)
def ask_citizen(task_id: TaskId, request: AskCitizenRequest) -> TaskView:
    return inquiries.ask(principal(), task_id, request)


@app.get(
    "/v1/agent/cases/<case_id>",
    tags=["agents"],
    summary="A case's whole file (agents who handle it): applicant, SLA, tasks, access log; the read is logged",
    description=(
        "The whole file of a case, for agents of the department that handles it: form, timeline, documents, applicant, "
        "due date, tasks and access log. The read is logged in the case's audit trail with its reason, which the "
        "citizen sees."
    ),
    security=SECURED,
    responses=_responses(AgentCaseView, 401, 403, 404),
)
def get_agent_case(case_id: CaseId, reason: ReadReason = None) -> AgentCaseView:
    return case_file.for_agent(principal(), case_id, reason)


@app.post(
    "/v1/agent/cases/<case_id>/photos/<photo>/publish",
    tags=["agents"],
    summary="Publish a photo of an alert: Open311 links to it from then on (agents of the department that handles it)",
    description=(
        "A photo can show a face or a number plate: no photo of an alert is public until an agent of the department "
        "that handles the case has looked at it and publishes it here (photo = its place in the form's photos, "
        "from 0). Open311's media_url then links to the first published photo. The publication is written with the "
        "case's audit trail; publishing a photo again changes nothing. Another department's agent gets the 404 of a "
        "case that does not exist; a case that is not public (no Open311 service) is a 409."
    ),
    security=SECURED,
    responses=_responses(PublishedPhotos, 401, 403, 404, 409),
)
def publish_case_photo(case_id: CaseId, photo: PhotoNumber) -> PublishedPhotos:
    return case_file.publish_photo(principal(), case_id, photo)


@app.post(
    "/v1/agent/tasks/<task_id>/complete",
    tags=["agents"],
    summary="Decide a task (nobody's, or claimed by the caller): the waiting workflow goes on with the outcome",
    description=(
        "An agent decides a task (nobody's, or claimed by the caller) with an outcome and a comment (required unless "
        "the outcome approves): the waiting workflow goes on with it. Of two agents deciding at once one wins; the "
        "other gets a 409."
    ),
    security=SECURED,
    responses=_responses(TaskView, 400, 401, 403, 404, 409),
)
def complete_agent_task(task_id: TaskId, request: CompleteTaskRequest) -> TaskView:
    return desk.complete(principal(), task_id, request)


@app.post(
    "/v1/agent/cases/<case_id>/documents/<document_id>/revoke",
    tags=["agents"],
    summary="Revoke a document the case issued, with a reason its citizen reads (agents of the handling department)",
    description=(
        "An agent of the department that handles the case withdraws a document the case issued (e.g. a permit): from "
        "then on, verifying it by its code says revoked and since when (never why). The reason (500 characters at "
        "most, no control or separator character) is shown to the case's citizen, on the case's timeline and in the "
        "email that tells them. Written with the case's audit trail. The same revocation again changes nothing (200); "
        "another reason for a document already revoked is a 409 (already_revoked). A citizen or a kiosk gets 403; "
        "another department's agent the 404 of a case that does not exist; a document the case did not issue, a 404."
    ),
    security=SECURED,
    responses=_responses(RevokedDocument, 400, 401, 403, 404, 409),
)
def revoke_case_document(case_id: CaseId, document_id: DocumentId, request: RevokeDocumentRequest) -> RevokedDocument:
    return revocations.revoke(principal(), case_id, document_id, request)


# ---------------------------------------------------------------------------------------------- the city's figures
@app.get(
    "/v1/stats",
    tags=["figures"],
    summary="Products delivered in a period, by channel and procedure, with the channel shares (reporting agents)",
    description=(
        "The products delivered between two dates, by channel and by procedure, with each channel's share and the "
        "digital share. For agents of the reporting department."
    ),
    security=SECURED,
    responses=_responses(Figures, 401, 403),
)
def get_stats(
    start: Annotated[str, Query(alias="from", pattern=r"^\d{4}-\d{2}-\d{2}$", examples=["2025-01-01"])],
    end: Annotated[str, Query(alias="to", pattern=r"^\d{4}-\d{2}-\d{2}$", examples=["2025-12-31"])],
) -> Figures:
    return stats.figures(principal(), start, end)


# ---------------------------------------------------------------------------------------------- the entry point
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    refused = refuse_too_large(event, CORS)  # a body over the limit: a 413 before anything reads it
    return secure(refused if refused is not None else _resolve(event, context))


def _resolve(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The resolver's reply; Swagger UI is registered when the first request for it arrives (enable_swagger)."""
    if event.get("resource") == "/swagger":
        enable_swagger()
    return app.resolve(event, context)
