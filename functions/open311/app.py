"""Open311 GeoReport v2: routes only (the mapping lives in ``omnicity.application.open311``, the wire format in
``omnicity.http.open311``).

API Gateway path parameters are whole segments, so the format travels inside them: ``/open311/v2/{document}`` is
``services.json``, ``requests.xml``...; ``/open311/v2/services/{service_file}`` is ``litter.json``;
``/open311/v2/requests/{request_file}`` is ``BXL-2026-000123.xml``. POST bodies are form-encoded, as the spec says.
Every error, ours or the resolver's, is written in the spec's format, a list of ``{code, description}``
(``omnicity.http.errors`` with ``omnicity.http.open311``).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from omnicity.adapters.cases import CaseRepository
from omnicity.adapters.documents import DocumentStore, Uploads
from omnicity.adapters.executions import WorkflowStarter
from omnicity.adapters.slots import SlotBook
from omnicity.adapters.throttle import CallerLimit, Limit, Throttle, caller_of_address
from omnicity.application.open311 import PROCEDURE_ID, Open311, Params
from omnicity.application.submissions import Submissions
from omnicity.catalogue import DeferredCatalogue, retention_days_of
from omnicity.config import Open311Settings, load_settings
from omnicity.domain.errors import NotFoundError
from omnicity.http.edge import check_body_size, secure
from omnicity.http.errors import install_error_handlers
from omnicity.http.open311 import Open311Endpoint, merge_params, parse_form, respond, split_document
from omnicity.observability import logger, metrics, tracer

settings = load_settings(Open311Settings)
app = APIGatewayRestResolver()
REPORT_LIMIT = Limit(
    "report",
    settings.anonymous_report_limit,
    settings.anonymous_report_window_seconds,
    "too many requests from this client and address",
)


# Built once, at cold start, from the settings validated above (no AWS client until a request needs one).
catalogue = DeferredCatalogue()  # read on first use: the init stays lean
_cases = CaseRepository(settings.table_name, retention=retention_days_of)
_store = DocumentStore(settings.documents_bucket)
_uploads = Uploads(settings.documents_bucket)
_submissions = Submissions(
    _cases,
    catalogue,
    WorkflowStarter(settings.state_machine_arn),
    SlotBook(settings.table_name),
    _uploads,
    CallerLimit(Throttle(settings.table_name), REPORT_LIMIT),
)
open311 = Open311Endpoint(
    Open311(
        lambda: catalogue.get(PROCEDURE_ID),
        _submissions,
        _cases,
        settings.api_keys,
        lambda key: _store.presigned_url(key, settings.document_url_ttl_seconds),
    )
)
install_error_handlers(
    app,
    lambda error: open311.error_response(app.current_event.path, error),
    no_route="no such resource: see /open311/v2/services.json",
    body="form",
)


def query() -> Params:
    return merge_params(app.current_event.multi_value_query_string_parameters or {})


def accept_language() -> str | None:
    return app.current_event.headers.get("accept-language")


@app.get("/open311/v2/<document>")
def get_document(document: str) -> Response[str]:
    name, fmt = split_document(document)
    if name == "services":
        return respond(open311.services(fmt, query(), accept_language()))
    if name == "requests":
        return respond(open311.list_requests(fmt, query(), accept_language()))
    raise NotFoundError(f"no resource {document!r}: services or requests")


@app.post("/open311/v2/<document>")
def post_document(document: str) -> Response[str]:
    name, fmt = split_document(document)
    if name != "requests":
        raise NotFoundError(f"no resource {document!r} to POST to: requests")
    check_body_size(app.current_event.body, base64_encoded=bool(app.current_event.is_base64_encoded))
    form = parse_form(app.current_event.decoded_body, app.current_event.headers.get("content-type"))
    source = caller_of_address(app.current_event.request_context.identity.source_ip)
    reply = open311.create_request(fmt, merge_params(query(), form), accept_language(), source=source)
    metrics.add_metric(name="Open311RequestsCreated", unit="Count", value=1)
    return respond(reply)


@app.get("/open311/v2/services/<service_file>")
def get_service_definition(service_file: str) -> Response[str]:
    code, fmt = split_document(service_file)
    return respond(open311.service_definition(fmt, code, query(), accept_language()))


@app.get("/open311/v2/requests/<request_file>")
def get_request(request_file: str) -> Response[str]:
    reference, fmt = split_document(request_file)
    return respond(open311.get_request(fmt, reference, query(), accept_language()))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return secure(app.resolve(event, context))
