"""Workflow step: check the applicant against the registers; a case that is not eligible is rejected with a reason."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from omnicity.application.steps import CaseStep, build_workflow, parse
from omnicity.observability import logger, tracer

workflow = build_workflow()


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse(CaseStep, event)
    outcome = workflow.check_eligibility(step.case_id)
    return {"case_id": step.case_id, "outcome": outcome}
