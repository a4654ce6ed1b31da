"""The HTTPS API for the portal, the kiosks and the counter: routes only.

Each route reads the validated input, asks the layer's CaseService, returns a view model. Errors are mapped to
``{"error": {"code", "message", "details"}}`` here and nowhere else.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from omnicity.cases import CaseRepository
from omnicity.catalogue import get_catalogue
from omnicity.city import get_city
from omnicity.config import ApiSettings, load_settings
from omnicity.documents import DocumentStore
from omnicity.errors import MalformedRequestError, NotFoundError, OmnicityError, ValidationFailedError
from omnicity.identity import Principal, principal_from_claims
from omnicity.models import Channel
from omnicity.observability import logger, metrics, tracer
from omnicity.services import CaseService, WorkflowStarter
from omnicity.views import (
    CaseCreated,
    CaseList,
    CaseView,
    DocumentUrl,
    ErrorResponse,
    ProcedureDetail,
    ProcedureList,
    ProcedureSummary,
    SubmitCaseRequest,
)

settings = load_settings(ApiSettings)
app = APIGatewayRestResolver(enable_validation=True)
# One description of the API for Swagger UI (/swagger) and the committed openapi.json (make openapi).
OPENAPI: dict[str, Any] = {
    "title": "omnicity API",
    "version": "1.0.0",
    "description": "A city's administrative procedures on every channel: portal, kiosk and counter.",
    "security_schemes": {"bearer": HTTPBearer(bearerFormat="JWT", description="ID token of the channel's app client")},
}
app.enable_swagger(path="/swagger", **OPENAPI)

SECURED: list[dict[str, list[str]]] = [{"bearer": []}]
CaseId = Annotated[str, Path(min_length=1, max_length=64)]
DocumentId = Annotated[str, Path(min_length=1, max_length=64)]
ProcedureId = Annotated[str, Path(min_length=1, max_length=63)]


def _responses(model: type[Any], *errors: int, status: int = 200) -> dict[int, Any]:
    """The documented responses: the success model, then each error status with the one error shape (422 always:
    every route validates its input)."""
    documented: dict[int, Any] = {status: {"description": "Success", "content": {"application/json": {"model": model}}}}
    error_content = {"application/json": {"model": ErrorResponse}}
    for error in sorted({*errors, 422}):
        documented[error] = {"description": "Error", "content": error_content}
    return documented


@cache
def service() -> CaseService:
    return CaseService(
        repository=CaseRepository(settings.table_name),
        catalogue=get_catalogue(),
        starter=WorkflowStarter(settings.state_machine_arn),
        store=DocumentStore(settings.documents_bucket),
        reference_prefix=get_city().reference_prefix,
        url_ttl_seconds=settings.document_url_ttl_seconds,
    )


def principal() -> Principal:
    clients = {
        settings.portal_client_id: Channel.PORTAL,
        settings.kiosk_client_id: Channel.KIOSK,
        settings.counter_client_id: Channel.COUNTER,
    }
    authorizer = app.current_event.request_context.authorizer
    return principal_from_claims(authorizer.claims if authorizer else None, clients)


# ---------------------------------------------------------------------------------------------- catalogue (public)
@app.get(
    "/v1/procedures",
    tags=["procedures"],
    summary="The procedures a citizen can request",
    responses=_responses(ProcedureList),
)
def list_procedures() -> ProcedureList:
    return ProcedureList(items=[ProcedureSummary.of(p) for p in get_catalogue().all()])


@app.get(
    "/v1/procedures/<procedure_id>",
    tags=["procedures"],
    summary="One procedure with its form",
    responses=_responses(ProcedureDetail, 404),
)
def get_procedure(procedure_id: ProcedureId) -> ProcedureDetail:
    return ProcedureDetail.of(get_catalogue().get(procedure_id))


# ---------------------------------------------------------------------------------------------- cases
@app.post(
    "/v1/cases",
    tags=["cases"],
    summary="Submit a case; starts the procedure's workflow",
    status_code=201,
    security=SECURED,
    responses=_responses(CaseCreated, 400, 401, 403, 404, status=201),
)
def submit_case(request: SubmitCaseRequest) -> CaseCreated:
    created = service().submit(principal(), request)
    metrics.add_metric(name="CasesSubmitted", unit="Count", value=1)
    return created


@app.get(
    "/v1/cases",
    tags=["cases"],
    summary="The caller's own cases",
    security=SECURED,
    responses=_responses(CaseList, 400, 401, 403),
)
def list_cases(
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> CaseList:
    return service().list_own(principal(), limit, cursor)


@app.get(
    "/v1/cases/<case_id>",
    tags=["cases"],
    summary="A case: status, timeline, documents",
    security=SECURED,
    responses=_responses(CaseView, 401, 403, 404),
)
def get_case(case_id: CaseId) -> CaseView:
    return service().get(principal(), case_id)


@app.get(
    "/v1/cases/<case_id>/documents/<document_id>",
    tags=["cases"],
    summary="A short-lived download URL for a case's document",
    security=SECURED,
    responses=_responses(DocumentUrl, 401, 403, 404),
)
def get_document(case_id: CaseId, document_id: DocumentId) -> DocumentUrl:
    return service().document_url(principal(), case_id, document_id)


# ---------------------------------------------------------------------------------------------- errors
def _error_response(error: OmnicityError) -> Response[Any]:
    return Response(status_code=error.http_status, content_type=content_types.APPLICATION_JSON, body=error.to_body())


@app.exception_handler(OmnicityError)  # type: ignore[untyped-decorator]
def handle_domain_error(error: OmnicityError) -> Response[Any]:
    if error.http_status >= 500:
        logger.exception("request failed", extra={"code": error.code})
    return _error_response(error)


@app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
def handle_validation_error(error: RequestValidationError) -> Response[Any]:
    problems = error.errors()
    if any(problem.get("type") == "json_invalid" for problem in problems):
        return _error_response(MalformedRequestError("the body is not valid JSON"))
    details = [
        {
            "field": ".".join(str(part) for part in problem.get("loc", ()) if part != "body") or "body",
            "reason": str(problem.get("msg", "invalid")),
        }
        for problem in problems
    ]
    return _error_response(ValidationFailedError("the request has invalid fields", details))


@app.not_found
def handle_not_found(_: Exception) -> Response[Any]:
    return _error_response(NotFoundError("no such route"))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
