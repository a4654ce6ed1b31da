"""Workflow step: email the citizen about their case (document ready, rejected...) in the case's language."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from omnicity.application.steps import NotifyStep, build_workflow, parse
from omnicity.observability import logger, tracer

workflow = build_workflow(sends_email=True)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = parse(NotifyStep, event)
    workflow.notify(step.case_id, step.message)
    return {"case_id": step.case_id}
