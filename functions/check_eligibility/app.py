"""Workflow step: check the applicant against the registers; a case that is not eligible is rejected with a reason."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from omnicity.adapters.cases import CaseRepository
from omnicity.adapters.registries import get_registers
from omnicity.application.steps import CaseStep, parse
from omnicity.application.workflow import EligibilityCheck
from omnicity.catalogue import get_catalogue, retention_days_of
from omnicity.config import CoreSettings, load_settings
from omnicity.observability import logger, tracer

settings = load_settings(CoreSettings)
eligibility = EligibilityCheck(
    CaseRepository(settings.table_name, retention=retention_days_of), get_catalogue(), get_registers()
)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse(CaseStep, event)
    outcome = eligibility.check_eligibility(step.case_id)
    return {"case_id": step.case_id, "outcome": outcome}
