"""Workflow step: check a submitted case against its procedure's form (submitted -> in_progress or rejected)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from omnicity.adapters.cases import CaseRepository
from omnicity.application.steps import CaseStep, parse
from omnicity.application.workflow import RequestValidation
from omnicity.catalogue import get_catalogue, retention_days_of
from omnicity.config import CoreSettings, load_settings
from omnicity.observability import logger, tracer

settings = load_settings(CoreSettings)
validation = RequestValidation(CaseRepository(settings.table_name, retention=retention_days_of), get_catalogue())


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse(CaseStep, event)
    case = validation.validate_request(step.case_id)
    return {"case_id": case.case_id, "procedure_id": case.procedure_id, "status": case.status.value}
