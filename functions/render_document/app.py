"""Workflow step: render the procedure's document in the case's language, seal it and store it in S3.

The only function that imports the PDF renderer (fpdf2 is the heaviest import of the platform at cold start) and the
only one that seals; pyHanko, which seals, is imported with the first document sealed (omnicity.adapters.sealing).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from omnicity.adapters.cases import CaseRepository
from omnicity.adapters.documents import DocumentStore
from omnicity.adapters.registries import get_registers
from omnicity.adapters.rendering import render_document
from omnicity.adapters.sealing import kms_sealer
from omnicity.application.steps import CaseStep, parse
from omnicity.application.workflow import DocumentIssuing
from omnicity.catalogue import DeferredCatalogue, retention_days_of
from omnicity.config import RenderSettings, load_settings
from omnicity.observability import logger, tracer

settings = load_settings(RenderSettings)
documents = DocumentIssuing(
    CaseRepository(settings.table_name, retention=retention_days_of),
    DeferredCatalogue(),  # read with the first document: the init stays lean
    get_registers(),
    render_document,
    kms_sealer(settings),
    DocumentStore(settings.documents_bucket),
    portal_url=settings.portal_url,
)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse(CaseStep, event)
    case = documents.render_document(step.case_id)
    return {"case_id": case.case_id, "documents": [doc.document_id for doc in case.documents]}
